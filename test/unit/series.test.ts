/**
 * What a run holds of its samples (bounded, counts exact), and the gaps and coverage computed
 * from them against the planned interval.
 */
import { describe, expect, it } from 'vitest';
import { addCovered, coveredBy, expectedSamples, findGaps } from '../../activities/probes/gaps';
import { checkTolerance, type Sample, summarize } from '../../activities/probes/samples';
import { factsOf, newSeries, recentSamples, record, summarizeSeries } from '../../activities/probes/series';

const ok = (at: number, latencyMs = 10): Sample => ({ at, ok: true, latencyMs, status: 200 });
const bad = (at: number): Sample => ({ at, ok: false, latencyMs: 1, error: 'connection refused' });
/** Samples every `every` ms from `from` to `to` (exclusive). */
const every = (every: number, from: number, to: number, make = ok) =>
  Array.from({ length: Math.ceil((to - from) / every) }, (_, i) => make(from + i * every));

describe('gaps', () => {
  const window = { from: 0, to: 30_000, everyMs: 100, tailMs: 1_000 };

  it('finds the stretch in which a probe was not sampled, with how many samples it missed', () => {
    // A Temporal outage: nothing from 8.4s to 19.9s.
    const samples = [...every(100, 0, 8_500), ...every(100, 19_900, 30_000)];
    const gaps = findGaps(coveredBy(samples, 100), window);
    expect(gaps).toEqual([{ from: 8_400, to: 19_900, missed: 114 }]);
  });

  it('ignores late samples and a single missed one, and the last timeout of the window', () => {
    const late = every(100, 0, 29_000).filter((_, i) => i !== 40);
    late[70] = ok((late[70]?.at ?? 0) + 400); // a timer that fired late
    expect(findGaps(coveredBy(late, 100), window)).toEqual([]);
  });

  it('finds gaps at the edges of the window, and a window with no sample at all', () => {
    const samples = every(100, 3_000, 20_000);
    expect(findGaps(coveredBy(samples, 100), window)).toEqual([
      { from: 0, to: 3_000, missed: 30 },
      { from: 19_900, to: 29_000, missed: 91 },
    ]);
    expect(findGaps([], window)).toEqual([{ from: 0, to: 29_000, missed: 291 }]);
  });

  it('are the same whatever order the samples arrive in', () => {
    const samples = [...every(100, 0, 5_000), ...every(100, 9_000, 12_000), ...every(100, 20_000, 30_000)];
    const shuffled = [...samples].sort((a, b) => ((a.at * 7919) % 1000) - ((b.at * 7919) % 1000));
    expect(coveredBy(shuffled, 100)).toEqual(coveredBy(samples, 100));
    expect(coveredBy(samples, 100)).toEqual([
      { from: 0, to: 4_900 },
      { from: 9_000, to: 11_900 },
      { from: 20_000, to: 29_900 },
    ]);
  });

  it('keep a bounded list however often a probe flaps', () => {
    let spans = addCovered([], 0, 1_000);
    for (let at = 0; at < 2_000_000; at += 1_500) spans = addCovered(spans, at, 1_000);
    expect(spans.length).toBeLessThanOrEqual(200);
    expect(spans[0]?.from).toBe(0);
    expect(spans.at(-1)?.to).toBe(1_999_500);
  });
});

describe('coverage', () => {
  it('counts the samples a window planned: one at its start, then one every interval, less the tail', () => {
    expect(expectedSamples({ from: 0, to: 30_000, everyMs: 100, tailMs: 0 })).toBe(301);
    expect(expectedSamples({ from: 0, to: 30_000, everyMs: 100, tailMs: 1_000 })).toBe(291);
    expect(expectedSamples({ from: 0, to: 500, everyMs: 100, tailMs: 2_000 })).toBe(1);
  });

  it('makes a check that saw less than 80% of its samples fail, saying how much it saw', () => {
    const samples = every(100, 0, 14_800);
    const summary = { ...summarize('p', samples, 1_000), expected: 300 };
    const checks = checkTolerance(summary, samples, { errorRate: 0.01 });
    expect(checks).toEqual([
      { measure: 'errorRate', limit: 0.01, measured: 0, ok: true },
      { measure: 'coverage', limit: 0.8, measured: 0.493, ok: false },
    ]);
    const enough = { ...summary, samples: 240 };
    expect(checkTolerance(enough, samples, { errorRate: 0.01 }).every((c) => c.ok)).toBe(true);
  });

  it('leaves summaries from journals without planned counts judged as before', () => {
    const samples = every(100, 0, 1_000);
    expect(checkTolerance(summarize('p', samples, 1_000), samples, {}).map((c) => c.measure)).toEqual([
      'errorRate',
    ]);
  });
});

describe('a series of samples', () => {
  const window = { from: 0, to: 3_600_000, everyMs: 20, tailMs: 0 };

  it('holds at most its cap, and still counts every sample, error and failure run exactly', () => {
    const series = newSeries({ everyMs: 20, heldCap: 1_000, bucketMs: 30_000, recentCap: 50 });
    // An hour at the floor: 180,000 samples, one in ten failing, a run of 40 failures at 30 min.
    for (let i = 0; i < 180_000; i++) {
      const at = i * 20;
      const failing = i % 10 === 9 || (i >= 90_000 && i < 90_040);
      record(series, failing ? bad(at) : ok(at, i % 100));
    }
    expect(series.held.length).toBeLessThanOrEqual(1_000);
    expect(recentSamples(series).slice(-50)).toHaveLength(50);
    expect(recentSamples(series).at(-1)?.at).toBe(179_999 * 20);

    const summary = summarizeSeries({ name: 'p', kind: 'http' }, series, window);
    expect(summary).toMatchObject({
      samples: 180_000,
      errors: 18_036,
      maxConsecutiveFailures: 41, // 89,999 failed too
      expected: 180_001,
      gaps: [],
      topErrors: [{ message: 'connection refused', count: 18_036 }],
      kind: 'http',
    });
    expect(summary.percentilesFrom).toBeLessThanOrEqual(1_000);
    // The held subset is spread evenly: its percentiles are those of the whole.
    expect(summary.latencyMs?.p50).toBeCloseTo(49, -1);
    expect(summary.buckets).toHaveLength(120);
    expect(summary.buckets.reduce((n, b) => n + b.samples, 0)).toBe(180_000);
    expect(summary.buckets[0]).toMatchObject({ samples: 1_500, errors: 150 });
  });

  it('keeps no latest samples apart for an expectation, which has no window', () => {
    const series = newSeries({ everyMs: 20, heldCap: 100, bucketMs: 1_000 });
    for (let i = 0; i < 10_000; i++) record(series, ok(i * 20));
    expect(series.held.length).toBeLessThanOrEqual(100);
    expect(series.recent).toEqual([]);
  });

  it('keeps every sample while there are fewer than its cap: the summary is the exact one', () => {
    const series = newSeries({ everyMs: 100, heldCap: 1_000, bucketMs: 1_000 });
    const samples = [...every(100, 0, 5_000), bad(5_000), bad(5_100)];
    for (const sample of samples) record(series, sample);
    const exact = summarize('p', samples, 1_000);
    const summary = summarizeSeries({ name: 'p' }, series, { from: 0, to: 5_200, everyMs: 100, tailMs: 0 });
    expect(summary).toMatchObject({ ...exact, expected: 53, gaps: [] });
    expect(summary.percentilesFrom).toBeUndefined();
    expect(factsOf(series)).toEqual({ statuses: [200], noResponse: true, valueMin: null, valueMax: null });
  });

  it('keeps the fewest and most an ec2Fleet probe counted, overall and per bucket', () => {
    const series = newSeries({ everyMs: 250, heldCap: 4, bucketMs: 1_000 });
    const counts = [4, 4, 3, 3, 2, 3, 4, 4];
    counts.forEach((value, i) => {
      record(series, { at: i * 250, ok: value >= 4, latencyMs: 5, value });
    });
    expect(factsOf(series)).toMatchObject({ valueMin: 2, valueMax: 4 });
    const summary = summarizeSeries({ name: 'fleet', kind: 'ec2Fleet', range: { min: 4 } }, series, {
      from: 0,
      to: 2_000,
      everyMs: 250,
      tailMs: 0,
    });
    expect(summary.range).toEqual({ min: 4 });
    expect(summary.buckets.map((b) => [b.valueMin, b.valueMax])).toEqual([
      [3, 4],
      [2, 4],
    ]);
  });
});
