/**
 * Toxiproxy as its own README (v2.12.0) uses it: proxies populated in bulk under the README's own
 * names (`shopify_test_redis_master`, `shopify_test_mysql_master`), the README's example toxic (a
 * downstream latency of 1000 ms: "will take 1s") on the first, the second brought down. On a
 * Toxiproxy server of this file's own, at Toxiproxy's default log level, whose log must not warn
 * about a deprecated HTTP method (Toxiproxy 2.6.0+ logs one for every POST that updates a proxy).
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/lab/ports';
import { startToxiproxy, type ToxiproxyServer } from '../../src/lab/toxiproxy-server';
import { injectToxiproxy, revertToxiproxy } from '../../src/providers/faults/toxiproxy';
import type { ToxiproxyHandle } from '../../src/report/journal';
import { finished, observeProxy, startExperiment, uniqueName, useWorker, waitFor } from '../helpers';

let toxiproxy: ToxiproxyServer;

beforeAll(async () => {
  // Toxiproxy's own default level (info), so its warnings are in the log.
  toxiproxy = await startToxiproxy(await freePort(), { logLevel: 'info' });
});
const suite = useWorker('toxiproxy-readme');
const { taskQueue } = suite;
afterAll(async () => {
  await toxiproxy?.stop();
});

async function upstream(): Promise<string> {
  const server: Server = createServer((_request, response) => response.writeHead(200).end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('Toxiproxy as its README uses it', () => {
  it("takes the README's proxies by name: a 1s latency toxic on one, the other down, and no deprecation warning", async () => {
    const redisListen = `127.0.0.1:${await freePort()}`;
    const mysqlListen = `127.0.0.1:${await freePort()}`;
    // The README's `Toxiproxy.populate([...])`, which its clients send as POST /populate.
    const populated = await fetch(`${toxiproxy.url}/populate`, {
      method: 'POST',
      body: JSON.stringify([
        { name: 'shopify_test_redis_master', listen: redisListen, upstream: await upstream() },
        { name: 'shopify_test_mysql_master', listen: mysqlListen, upstream: await upstream() },
      ]),
    });
    expect(populated.status).toBe(201);

    const redis = observeProxy('shopify_test_redis_master', 20, toxiproxy.url);
    const mysql = observeProxy('shopify_test_mysql_master', 20, toxiproxy.url);
    const { handle, plan } = await startExperiment(
      suite.client,
      {
        version: 1,
        name: uniqueName('readme'),
        description: "Toxiproxy's README example, run as a game day.",
        target: { environment: 'local' },
        settings: { toxiproxy: { url: toxiproxy.url } },
        steadyState: [
          {
            name: 'redis',
            http: { url: `http://${redisListen}/`, timeout: '3s' },
            sample: { every: '50ms', count: 3 },
          },
          {
            name: 'mysql',
            http: { url: `http://${mysqlListen}/`, timeout: '3s' },
            sample: { every: '50ms', count: 3 },
          },
        ],
        phases: [
          {
            name: 'redis-slow',
            duration: '3s',
            faults: [
              {
                name: 'redis-latency',
                toxiproxy: {
                  proxy: 'shopify_test_redis_master',
                  stream: 'downstream',
                  toxic: 'latency',
                  attributes: { latency: 1000 },
                },
              },
            ],
          },
          {
            name: 'mysql-down',
            duration: '1s',
            faults: [{ name: 'mysql-gone', toxiproxy: { proxy: 'shopify_test_mysql_master', down: true } }],
          },
        ],
        recovery: { within: '5s' },
      },
      taskQueue,
    );

    const toxic = `gameday.${plan.runId}.redis-latency`;
    await waitFor(() => redis.seen.some((s) => s.toxics.includes(toxic)), { what: 'the latency toxic' });
    // The README: "redis.get("test") # will take 1s".
    const startedAt = Date.now();
    expect((await fetch(`http://${redisListen}/`)).status).toBe(200);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_000);

    const result = await finished(handle);
    const seenRedis = await redis.stop();
    const seenMysql = await mysql.stop();

    expect(result.verdict, result.reason).toBe('passed');
    expect(seenMysql.some((s) => !s.enabled)).toBe(true);
    expect(seenRedis.at(-1)).toMatchObject({ enabled: true, toxics: [] });
    expect(seenMysql.at(-1)).toMatchObject({ enabled: true, toxics: [] });
    // Toxiproxy's own spelling ("depercated") and the right one, in case a later version fixes it.
    const warnings = toxiproxy
      .log()
      .split('\n')
      .filter((line) => /deprec|deperc/i.test(line));
    expect(warnings).toEqual([]);
    expect(toxiproxy.log()).toContain('shopify_test_mysql_master');
  });

  it('updates its own toxic in place when an inject is retried, also without a deprecation warning', async () => {
    const listen = `127.0.0.1:${await freePort()}`;
    const created = await fetch(`${toxiproxy.url}/proxies`, {
      method: 'POST',
      body: JSON.stringify({ name: 'shopify_test_memcached_1', listen, upstream: await upstream() }),
    });
    expect(created.status).toBe(201);
    const handle = (latency: number): ToxiproxyHandle => ({
      action: 'toxic',
      url: toxiproxy.url,
      proxy: 'shopify_test_memcached_1',
      toxic: {
        name: 'gameday.r1.slow',
        type: 'latency',
        stream: 'downstream',
        toxicity: 1,
        attributes: { latency },
      },
    });
    await injectToxiproxy(handle(100));
    await injectToxiproxy(handle(250)); // a retried attempt, planned differently: the toxic exists
    const toxics = (await (
      await fetch(`${toxiproxy.url}/proxies/shopify_test_memcached_1/toxics`)
    ).json()) as {
      name: string;
      attributes: { latency: number };
    }[];
    expect(toxics).toEqual([
      expect.objectContaining({ name: 'gameday.r1.slow', attributes: { latency: 250, jitter: 0 } }),
    ]);
    expect(await revertToxiproxy(handle(250))).toEqual({ alreadyGone: false });
    const warnings = toxiproxy
      .log()
      .split('\n')
      .filter((line) => /deprec|deperc/i.test(line));
    expect(warnings).toEqual([]);
  });
});
