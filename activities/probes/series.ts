/**
 * One probe's samples over one window (a phase's watch, one steady-state check), held in bounded
 * memory however long the window runs. Counts stay exact over every sample taken: errors, the
 * longest failure run, statuses, counted values, the time buckets of the charts and the stretches
 * that were sampled (so gaps and coverage are exact too). Only the samples themselves, which the
 * latency percentiles need, are capped: past `heldCap` an evenly spread subset is kept.
 *
 * A series is plain JSON, so a watch's heartbeat can carry it and a resumed attempt go on with it.
 */
import type { ProbeKind } from '../../src/experiment/schema';
import type { ProbeSummary } from '../../src/report/journal';
import { addCovered, expectedSamples, findGaps, gapThreshold, type SamplingWindow, type Span } from './gaps';
import { type Sample, type SampleFacts, summarize } from './samples';

export interface SeriesState {
  everyMs: number;
  /** Samples recorded, held or not. */
  taken: number;
  /** Every sample, in arrival order, until `heldCap`; from then on every `stride`-th. */
  held: Sample[];
  heldCap: number;
  stride: number;
  /** Once `held` is a subset: the latest samples in arrival order, what a guardrail window needs. */
  recent: Sample[];
  recentCap: number;
  /** The stretches in which samples started no further apart than a gap. */
  covered: Span[];
  tally: Tally;
}

/** What stays exact over every sample, whatever `held` still holds. */
export interface Tally {
  errors: number;
  from: number;
  to: number;
  longestFailureRun: number;
  failureRun: number;
  errorCounts: Record<string, number>;
  statuses: number[];
  noResponse: boolean;
  valueMin: number | null;
  valueMax: number | null;
  /** Per chart bucket start: samples, errors and the fewest and most counted. */
  buckets: Record<string, BucketTally>;
  bucketMs: number;
  /** A write probe's acknowledged writes; absent in series from before they were kept. */
  acknowledged?: AcknowledgedTally;
}

/** Every acknowledged write counted; every `stride`-th kept, at most MAX_ACKNOWLEDGED of them. */
interface AcknowledgedTally {
  count: number;
  kept: { at: number; id: string }[];
  stride: number;
}

/** Ids a window keeps for the read-back: a long window's are thinned evenly, never unbounded. */
export const MAX_ACKNOWLEDGED = 2_000;

interface BucketTally {
  samples: number;
  errors: number;
  valueMin?: number;
  valueMax?: number;
}

/** Distinct error messages counted one by one; the rest are counted together. */
const MAX_ERROR_MESSAGES = 200;
const OTHER_ERRORS = '(other errors)';

export function newSeries(options: {
  everyMs: number;
  heldCap: number;
  bucketMs: number;
  recentCap?: number;
}): SeriesState {
  return {
    everyMs: options.everyMs,
    taken: 0,
    held: [],
    heldCap: Math.max(2, options.heldCap),
    stride: 1,
    recent: [],
    recentCap: options.recentCap ?? 0,
    covered: [],
    tally: {
      errors: 0,
      from: Number.POSITIVE_INFINITY,
      to: 0,
      longestFailureRun: 0,
      failureRun: 0,
      errorCounts: {},
      statuses: [],
      noResponse: false,
      valueMin: null,
      valueMax: null,
      buckets: {},
      bucketMs: options.bucketMs,
    },
  };
}

export function record(series: SeriesState, sample: Sample): void {
  series.taken++;
  tallySample(series.tally, sample);
  series.covered = addCovered(series.covered, sample.at, gapThreshold(series.everyMs));
  if (series.stride > 1 && series.recentCap > 0) {
    series.recent.push(sample);
    if (series.recent.length > series.recentCap * 2) series.recent = series.recent.slice(-series.recentCap);
  }
  if ((series.taken - 1) % series.stride !== 0) return;
  series.held.push(sample);
  if (series.held.length < series.heldCap) return;
  // Full: from now on keep every other sample of what is held, and of what comes.
  if (series.stride === 1 && series.recentCap > 0) series.recent = series.held.slice(-series.recentCap);
  series.held = series.held.filter((_, i) => i % 2 === 0);
  series.stride *= 2;
}

/** The latest samples in arrival order, at least `recentCap` of them when there are that many. */
export function recentSamples(series: SeriesState): readonly Sample[] {
  return series.stride === 1 ? series.held : series.recent;
}

function tallySample(tally: Tally, sample: Sample): void {
  tally.from = Math.min(tally.from, sample.at);
  tally.to = Math.max(tally.to, Math.round(sample.at + sample.latencyMs));
  tally.failureRun = sample.ok ? 0 : tally.failureRun + 1;
  tally.longestFailureRun = Math.max(tally.longestFailureRun, tally.failureRun);
  if (!sample.ok) {
    tally.errors++;
    const message = sample.error ?? `status ${sample.status}`;
    const key =
      message in tally.errorCounts || Object.keys(tally.errorCounts).length < MAX_ERROR_MESSAGES
        ? message
        : OTHER_ERRORS;
    tally.errorCounts[key] = (tally.errorCounts[key] ?? 0) + 1;
  }
  if (sample.status === undefined) tally.noResponse = true;
  else if (!tally.statuses.includes(sample.status)) tally.statuses.push(sample.status);
  if (sample.value !== undefined) {
    tally.valueMin = Math.min(tally.valueMin ?? sample.value, sample.value);
    tally.valueMax = Math.max(tally.valueMax ?? sample.value, sample.value);
  }
  if (sample.ackId !== undefined) acknowledge(tally, { at: sample.at, id: sample.ackId });
  const start = Math.floor(sample.at / tally.bucketMs) * tally.bucketMs;
  const bucket = tally.buckets[start] ?? { samples: 0, errors: 0 };
  tally.buckets[start] = bucket;
  bucket.samples++;
  if (!sample.ok) bucket.errors++;
  if (sample.value !== undefined) {
    bucket.valueMin = Math.min(bucket.valueMin ?? sample.value, sample.value);
    bucket.valueMax = Math.max(bucket.valueMax ?? sample.value, sample.value);
  }
}

function acknowledge(tally: Tally, write: { at: number; id: string }): void {
  tally.acknowledged ??= { count: 0, kept: [], stride: 1 };
  const acks = tally.acknowledged;
  acks.count++;
  if ((acks.count - 1) % acks.stride !== 0) return;
  acks.kept.push(write);
  if (acks.kept.length < MAX_ACKNOWLEDGED) return;
  acks.kept = acks.kept.filter((_, i) => i % 2 === 0);
  acks.stride *= 2;
}

/** What the tolerance checks need beyond the summary, exact over every sample. */
export function factsOf(series: SeriesState): SampleFacts {
  const { statuses, noResponse, valueMin, valueMax } = series.tally;
  return { statuses: [...statuses].sort((a, b) => a - b), noResponse, valueMin, valueMax };
}

/** Where the probe came from, for the reports: its kind, and the range an ec2Fleet count must be in. */
export interface ProbeIdentity {
  name: string;
  kind?: ProbeKind;
  range?: { min?: number; max?: number };
}

/** The window's summary: exact counts, percentiles from what is held, coverage and gaps. */
export function summarizeSeries(
  probe: ProbeIdentity,
  series: SeriesState,
  window: SamplingWindow,
): ProbeSummary {
  const held = [...series.held].sort((a, b) => a.at - b.at);
  const summary = summarize(probe.name, held, series.tally.bucketMs);
  const expected = expectedSamples(window);
  const complete = held.length === series.taken;
  return {
    ...summary,
    ...(complete ? {} : exactFigures(summary, series)),
    ...(probe.kind ? { kind: probe.kind } : {}),
    ...(probe.range ? { range: probe.range } : {}),
    everyMs: series.everyMs,
    bucketMs: series.tally.bucketMs,
    expected,
    gaps: findGaps(series.covered, window),
    ...(complete ? {} : { percentilesFrom: held.length }),
    ...(series.tally.acknowledged
      ? {
          acknowledged: {
            count: series.tally.acknowledged.count,
            writes: [...series.tally.acknowledged.kept].sort((a, b) => a.at - b.at),
          },
        }
      : {}),
  };
}

/** Counts from the tally where `held` is only a subset; bucket percentiles stay those of the subset. */
function exactFigures(summary: ProbeSummary, series: SeriesState): Partial<ProbeSummary> {
  const { tally, taken } = series;
  const figures = new Map(summary.buckets.map((bucket) => [bucket.at, bucket]));
  return {
    from: taken ? tally.from : 0,
    to: tally.to,
    samples: taken,
    errors: tally.errors,
    errorRate: taken ? tally.errors / taken : 0,
    maxConsecutiveFailures: tally.longestFailureRun,
    topErrors: Object.entries(tally.errorCounts)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([message, count]) => ({ message, count })),
    buckets: Object.entries(tally.buckets)
      .map(([at, counts]) => {
        const held = figures.get(Number(at));
        return { ...held, at: Number(at), p50: held?.p50 ?? 0, p99: held?.p99 ?? 0, ...counts };
      })
      .sort((a, b) => a.at - b.at),
  };
}

/** A series from plain samples: heartbeats of workers from before series were heartbeated. */
export function seriesOf(samples: readonly Sample[], options: Parameters<typeof newSeries>[0]): SeriesState {
  const series = newSeries(options);
  for (const sample of samples) record(series, sample);
  return series;
}

/** A summary of what a heartbeat carries, for `gameday status`: either shape a worker may send. */
export function liveSummary(name: string, detail: SeriesState | Sample[]): ProbeSummary {
  if (Array.isArray(detail)) return { ...summarize(name, detail, 60_000), buckets: [] };
  const { from, to } = detail.tally;
  const window = { from, to: Math.max(from, to), everyMs: detail.everyMs, tailMs: 0 };
  return { ...summarizeSeries({ name }, detail, window), buckets: [] };
}
