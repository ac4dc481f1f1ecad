/**
 * How the orders instances find DynamoDB: they resolve its name through the lab's DNS server
 * (dns-server.ts) with node:dns's Resolver, and keep each answer for its TTL. With
 * `staleIfErrorMs` (the hardened build), an answer whose TTL has run out is still served while
 * the name cannot be resolved (NXDOMAIN, NODATA, no answer at all), for at most that long past its
 * expiry (RFC 8767's serve-stale); the fragile build's cache has no such grace, so a void name
 * fails as soon as the cached answer expires.
 */

import type { LookupAddress, LookupOptions } from 'node:dns';
import { Resolver } from 'node:dns/promises';

interface Cached {
  addresses: string[];
  expiresAt: number;
  /** While serving it stale: when to ask the DNS server again (RFC 8767's failure recheck). */
  recheckAt?: number;
}

/** How long a stale answer is served before the name is asked for again. */
const STALE_RECHECK_MS = 1_000;

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export interface CachingLookupOptions {
  /** host:port of the DNS server. */
  server: string;
  /** How long past its TTL an answer may be served while the name does not resolve; 0: never. */
  staleIfErrorMs: number;
  now?: () => number;
}

export class CachingLookup {
  private readonly resolver = new Resolver({ timeout: 500, tries: 3 });
  private readonly cache = new Map<string, Cached>();
  /** One question per name in flight, however many calls wait for it. */
  private readonly asking = new Map<string, Promise<string[]>>();
  private readonly now: () => number;
  /** How often a stale answer was served, and the last resolution error, for the lab's status. */
  readonly stats = { resolved: 0, staleServed: 0, failed: 0, lastError: '' };

  constructor(private readonly options: CachingLookupOptions) {
    this.resolver.setServers([options.server]);
    this.now = options.now ?? Date.now;
  }

  /** The addresses of `hostname` (IPv4), from the cache while its TTL lasts. */
  resolve(hostname: string): Promise<string[]> {
    const cached = this.cache.get(hostname);
    const now = this.now();
    if (cached && now < cached.expiresAt) return Promise.resolve(cached.addresses);
    if (cached?.recheckAt && now < cached.recheckAt && this.servable(cached, now)) {
      this.stats.staleServed++;
      return Promise.resolve(cached.addresses);
    }
    let asking = this.asking.get(hostname);
    if (!asking) {
      asking = this.ask(hostname, cached).finally(() => this.asking.delete(hostname));
      this.asking.set(hostname, asking);
    }
    return asking;
  }

  private async ask(hostname: string, cached: Cached | undefined): Promise<string[]> {
    try {
      const answers = await this.resolver.resolve4(hostname, { ttl: true });
      this.stats.resolved++;
      const ttlMs = Math.min(...answers.map((a) => a.ttl)) * 1_000;
      const fresh = { addresses: answers.map((a) => a.address), expiresAt: this.now() + ttlMs };
      this.cache.set(hostname, fresh);
      return fresh.addresses;
    } catch (error) {
      this.stats.failed++;
      this.stats.lastError = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      const now = this.now();
      if (cached && this.servable(cached, now)) {
        cached.recheckAt = now + STALE_RECHECK_MS;
        this.stats.staleServed++;
        return cached.addresses;
      }
      throw error;
    }
  }

  /** Whether an expired answer may still be served: within staleIfErrorMs of its expiry. */
  private servable(cached: Cached, now: number): boolean {
    return this.options.staleIfErrorMs > 0 && now - cached.expiresAt <= this.options.staleIfErrorMs;
  }

  /** An http.Agent `lookup`: node's net calls it with `all` set when it may try several addresses. */
  readonly lookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    this.resolve(hostname).then(
      (addresses) => {
        if (options.all)
          callback(
            null,
            addresses.map((address) => ({ address, family: 4 })),
          );
        else callback(null, addresses[0] ?? '', 4);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}
