/**
 * The hardened load balancer's retry on connection errors, against real sockets on loopback:
 * two of its four targets lead nowhere (a lost host, and one back from being lost whose network has
 * not arrived, as in the replay's network backlog), side by side in its rotation.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILDS } from '../../src/lab/builds';
import { LoadBalancer } from '../../src/lab/load-balancer';

const servers: Server[] = [];
const balancers: LoadBalancer[] = [];
afterEach(async () => {
  await Promise.all(balancers.splice(0).map((lb) => lb.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

async function listening(handler?: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler ?? ((_q, r) => r.writeHead(200).end('ok')));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return server;
}
const address = (server: Server) => `127.0.0.1:${(server.address() as AddressInfo).port}`;

/** A loopback port nothing listens on any more: connections to it are refused. */
async function nowhere(): Promise<string> {
  const server = await listening();
  const at = address(server);
  await new Promise((done) => server.close(done));
  return at;
}

describe('the hardened load balancer', () => {
  it('answers every request while two adjacent targets of four refuse connections', async () => {
    const [good1, good2] = [await listening(), await listening()];
    servers.push(good1, good2);
    // Proven targets as a lab's are once they have passed their checks.
    const lb = new LoadBalancer({
      behaviour: { ...BUILDS.hardened.loadBalancer, newTargetsHealthy: true },
      healthCheckTimeoutMs: 500,
    });
    balancers.push(lb);
    const { port } = await lb.listen();
    lb.register('i-good-1', address(good1));
    lb.register('i-lost', await nowhere());
    lb.register('i-back-without-network', await nowhere());
    lb.register('i-good-2', address(good2));
    const statuses = [];
    for (let i = 0; i < 8; i++) statuses.push((await fetch(`http://127.0.0.1:${port}/orders/seed-1`)).status);
    expect(statuses).toEqual(Array(8).fill(200));
  });
});
