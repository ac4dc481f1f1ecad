/**
 * Which server a URL reaches, for the locks: two runs must exclude each other on one Toxiproxy
 * however its URL is written (`http://127.0.0.1:8474`, `http://localhost:8474/`, a DNS name).
 * The host is resolved to its addresses and the port defaulted; the path, the scheme and a
 * trailing slash say nothing about the server. Loopback, the unspecified address and this
 * machine's own interface addresses all reach this machine: they are one identity, named after the
 * host. Not recognised as one server: one Toxiproxy reached from different machines by different
 * addresses (say 127.0.0.1 on its own host, 10.0.0.5 from another).
 */
import { lookup } from 'node:dns/promises';
import { isIP, isIPv6 } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { unavailable } from './fault-provider';

export async function serverIdentities(url: string): Promise<string[]> {
  const parsed = new URL(url);
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(host) ? [host] : await resolve(host, url);
  const own = ownAddresses();
  const identities = addresses.map((address) =>
    reachesThisMachine(address, own)
      ? `local@${hostname()}:${port}`
      : `${isIPv6(address) ? `[${address}]` : address}:${port}`,
  );
  return [...new Set(identities)].sort();
}

async function resolve(host: string, url: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch (error) {
    throw unavailable(
      `cannot resolve ${host} for toxiproxy at ${url}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function reachesThisMachine(address: string, own: Set<string>): boolean {
  const plain = address.replace(/^::ffff:/i, '');
  return plain.startsWith('127.') || ['::1', '::', '0.0.0.0'].includes(plain) || own.has(plain);
}

function ownAddresses(): Set<string> {
  return new Set(
    Object.values(networkInterfaces())
      .flatMap((entries) => entries ?? [])
      .map((entry) => entry.address.replace(/%.*$/, '')),
  );
}
