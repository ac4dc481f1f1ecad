/**
 * Proxy names as Toxiproxy v2.12.0 takes them: anything non-empty its API can address again. The
 * rule was checked against a real server (create, then GET, PATCH, add a toxic, DELETE by name).
 */
import { describe, expect, it } from 'vitest';
import { ExperimentError, parseExperiment } from '../../src/experiment/load';
import { ProxyName } from '../../src/experiment/primitives';
import { toxicName } from '../../src/providers/faults/toxiproxy';

const experiment = (proxy: string, declared = proxy, listen = '127.0.0.1:22220') =>
  JSON.stringify({
    version: 1,
    name: 'names',
    description: 'd',
    target: { environment: 'local' },
    settings: { toxiproxy: { proxies: [{ name: declared, listen, upstream: '127.0.0.1:6379' }] } },
    steadyState: [{ name: 'ok', http: { url: 'http://127.0.0.1:9/' } }],
    phases: [
      {
        name: 'p',
        duration: '1s',
        faults: [
          { name: 'slow', toxiproxy: { proxy, toxic: 'latency', attributes: { latency: 1000 } } },
          { name: 'gone', toxiproxy: { proxy, down: true } },
        ],
      },
    ],
  });

function problems(source: string): string[] {
  try {
    parseExperiment(source, 'e.json');
  } catch (error) {
    if (error instanceof ExperimentError) return error.issues.map((i) => `${i.path}  ${i.message}`);
    throw error;
  }
  return [];
}

describe('proxy names', () => {
  it("accept the names of Toxiproxy's own README, and whatever else its API can address", () => {
    expect(problems(experiment('shopify_test_redis_master'))).toEqual([]);
    for (const name of [
      'shopify_development_mysql_1',
      'web_dev_frontend_1',
      'A.B',
      'a b',
      'ü',
      '%',
      'a..b',
    ]) {
      expect(ProxyName.safeParse(name).success, name).toBe(true);
    }
  });

  it("accept the README's config listen address, [::]:18080", () => {
    expect(problems(experiment('web_dev_frontend_1', 'web_dev_frontend_1', '[::]:18080'))).toEqual([]);
  });

  it('refuse, at the field, names Toxiproxy could create but never address again', () => {
    expect(problems(experiment('a/b'))).toEqual([
      "settings.toxiproxy.proxies[0].name  Toxiproxy's API cannot address a proxy whose name has a '/'",
      "phases[0].faults[0].toxiproxy.proxy  Toxiproxy's API cannot address a proxy whose name has a '/'",
      "phases[0].faults[1].toxiproxy.proxy  Toxiproxy's API cannot address a proxy whose name has a '/'",
    ]);
    expect(ProxyName.safeParse('..').success).toBe(false);
    expect(ProxyName.safeParse('.').success).toBe(false);
    expect(ProxyName.safeParse('').success).toBe(false);
    expect(ProxyName.safeParse('two\nlines').success).toBe(false);
  });

  it("keep the run's toxic names readable back: the fault is the last part, whatever the run id", () => {
    // Fault names are kebab case (no '.'), run ids may hold dots: the last part is the fault.
    const name = toxicName('nightly.2026-12-01', 'redis-slow');
    expect(name).toBe('gameday.nightly.2026-12-01.redis-slow');
    expect(name.split('.').at(-1)).toBe('redis-slow');
    expect(problems(experiment('shopify_test_redis_master').replace('"slow"', '"redis.slow"'))).toHaveLength(
      1,
    );
  });
});
