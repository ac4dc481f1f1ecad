import { describe, expect, it } from 'vitest';
import { checkTolerance, findBreach, type Sample, summarize } from '../../activities/probes/samples';
import { thin } from '../../activities/watch';

const ok = (at: number, latencyMs = 10): Sample => ({ at, ok: true, latencyMs, status: 200 });
const bad = (at: number, error = 'connection refused'): Sample => ({ at, ok: false, latencyMs: 1, error });
const guardrail = (abortWhen: object, window = 4) => ({ name: 'g', probe: 'p', window, abortWhen });

describe('summaries', () => {
  it('counts errors, the longest failure run, latency percentiles and the top errors', () => {
    const samples = [ok(0, 10), ok(100, 20), bad(200), bad(300), ok(400, 30), bad(500, 'status 503')];
    const summary = summarize('p', samples, 1_000);
    expect(summary).toMatchObject({ samples: 6, errors: 3, errorRate: 0.5, maxConsecutiveFailures: 2 });
    expect(summary.latencyMs?.max).toBe(30);
    expect(summary.topErrors).toEqual([
      { message: 'connection refused', count: 2 },
      { message: 'status 503', count: 1 },
    ]);
    expect(summary.buckets).toEqual([
      { at: 0, samples: 6, errors: 3, p50: expect.any(Number), p99: expect.any(Number) },
    ]);
  });
});

describe('tolerances', () => {
  it('holds when every measured value is at most its limit', () => {
    const samples = [ok(0, 10), ok(1, 20), ok(2, 30)];
    const checks = checkTolerance(summarize('p', samples, 1_000), samples, {
      status: [200],
      latencyP99Ms: 30,
      errorRate: 0,
    });
    expect(checks.every((c) => c.ok)).toBe(true);
  });

  it('fails on an unexpected status, on a sample with no response, or on latency', () => {
    const samples = [ok(0, 50), { ...ok(1), status: 500, ok: false }, bad(2)];
    const checks = checkTolerance(summarize('p', samples, 1_000), samples, {
      status: [200],
      latencyP99Ms: 20,
    });
    expect(checks).toEqual([
      { measure: 'status', limit: [200], measured: [200, 500], ok: false },
      { measure: 'latencyP99', limit: 20, measured: expect.any(Number), ok: false },
    ]);
  });

  it('without any tolerance, still requires every sample to succeed', () => {
    const samples = [ok(0), bad(1)];
    expect(checkTolerance(summarize('p', samples, 1_000), samples, {})).toEqual([
      { measure: 'errorRate', limit: 0, measured: 0.5, ok: false },
    ]);
  });
});

describe('guardrail breaches', () => {
  it('breach on consecutive failures without waiting for a full window', () => {
    const breach = findBreach(guardrail({ consecutiveFailures: 2 }, 10), [ok(0), bad(10), bad(20)], 30);
    expect(breach).toMatchObject({
      measure: 'consecutiveFailures',
      measured: 2,
      threshold: 2,
      decidedAt: 30,
      firstFailingSampleAt: 10,
    });
  });

  it('judge errorRate on a full window only, and at or past the threshold', () => {
    expect(findBreach(guardrail({ errorRate: 0.5 }), [bad(0), bad(1)], 2)).toBeNull();
    expect(findBreach(guardrail({ errorRate: 0.5 }), [ok(0), ok(1), ok(2), bad(3)], 4)).toBeNull();
    expect(findBreach(guardrail({ errorRate: 0.5 }), [ok(0), ok(1), bad(2), bad(3)], 4)).toMatchObject({
      measure: 'errorRate',
      measured: 0.5,
      firstFailingSampleAt: 2,
    });
  });

  it('look only at the latest window', () => {
    const samples = [bad(0), bad(1), bad(2), ok(3), ok(4), ok(5), ok(6)];
    expect(findBreach(guardrail({ errorRate: 0.25 }), samples, 7)).toBeNull();
  });

  it('breach on window p99 latency', () => {
    const samples = [ok(0, 10), ok(1, 10), ok(2, 10), ok(3, 900)];
    expect(findBreach(guardrail({ latencyP99Ms: 500 }), samples, 4)).toMatchObject({
      measure: 'latencyP99',
      threshold: 500,
    });
    expect(findBreach(guardrail({ latencyP99Ms: 1_000 }), samples, 4)).toBeNull();
  });
});

describe('heartbeat thinning', () => {
  it('keeps at most the cap: the newest half as they are, the older spread evenly', () => {
    const samples = Array.from({ length: 10_000 }, (_, i) => ok(i));
    const kept = thin(samples, 1_000);
    expect(kept).toHaveLength(1_000);
    expect(kept.slice(500)).toEqual(samples.slice(-500));
    expect(kept[0]?.at).toBe(0);
    expect(kept[499]?.at).toBeLessThan(9_500);
    expect(thin(samples.slice(0, 10), 1_000)).toHaveLength(10);
  });
});

describe('guardrail windows of up to 10,000 samples', () => {
  it('decide a p99 breach exactly as sorting the whole window would', () => {
    // The naive rule: sort the window, take its p99.
    const naive = (latencies: number[], limit: number) => {
      const sorted = [...latencies].sort((a, b) => a - b);
      const idx = (sorted.length - 1) * 0.99;
      const [lo, hi] = [sorted[Math.floor(idx)] ?? 0, sorted[Math.ceil(idx)] ?? 0];
      return lo + (idx - Math.floor(idx)) * (hi - lo) >= limit;
    };
    let seed = 7;
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    for (let round = 0; round < 400; round++) {
      const window = 1 + Math.floor(random() * 300);
      const latencies = Array.from({ length: window + 5 }, () =>
        random() < 0.03 ? 100 : Math.round(random() * 120),
      );
      const samples = latencies.map((latencyMs, i) => ({ ...ok(i), latencyMs }));
      const breach = findBreach(guardrail({ latencyP99Ms: 100 }, window), samples, 0);
      expect(breach !== null, `window ${window}`).toBe(naive(latencies.slice(-window), 100));
    }
  });
});
