/**
 * What probes measure and how it is judged: summaries of samples, tolerance checks (hypotheses)
 * and guardrail breaches. Pure functions, shared by the steady-state check and the phase watch.
 */
import { quantileSorted } from 'simple-statistics';
import type { AbortWhenPlan, TolerancePlan } from '../../src/experiment/plan';
import { COVERAGE_NEEDED } from '../../src/report/coverage';
import type { GuardrailBreach, ProbeSummary, ToleranceCheck } from '../../src/report/journal';

export type { Sample } from '../../src/providers/probe-kind';

import type { Sample } from '../../src/providers/probe-kind';

const MAX_BUCKETS = 120;

/** Bucket width that keeps a timeline of `spanMs` at most MAX_BUCKETS points, and at least 1s. */
export function bucketWidth(spanMs: number): number {
  return Math.max(1_000, Math.ceil(spanMs / MAX_BUCKETS / 1_000) * 1_000);
}

export function summarize(probe: string, samples: readonly Sample[], bucketMs: number): ProbeSummary {
  // Loops, not Math.min(...spread): a long phase has more samples than a call has arguments.
  let from = samples.length ? Number.POSITIVE_INFINITY : 0;
  let to = 0;
  for (const sample of samples) {
    from = Math.min(from, sample.at);
    to = Math.max(to, Math.round(sample.at + sample.latencyMs));
  }
  const errors = samples.filter((s) => !s.ok);
  const errorCounts = new Map<string, number>();
  for (const sample of errors) {
    const message = sample.error ?? `status ${sample.status}`;
    errorCounts.set(message, (errorCounts.get(message) ?? 0) + 1);
  }
  return {
    probe,
    from,
    to,
    samples: samples.length,
    errors: errors.length,
    errorRate: samples.length ? errors.length / samples.length : 0,
    maxConsecutiveFailures: longestFailureRun(samples),
    latencyMs: latencyFigures(samples),
    topErrors: [...errorCounts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([message, count]) => ({ message, count })),
    buckets: buckets(samples, bucketMs),
  };
}

function latencyFigures(samples: readonly Sample[]): ProbeSummary['latencyMs'] {
  if (samples.length === 0) return null;
  const sorted = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
  return {
    p50: round(quantileSorted(sorted, 0.5)),
    p95: round(quantileSorted(sorted, 0.95)),
    p99: round(quantileSorted(sorted, 0.99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

function buckets(samples: readonly Sample[], bucketMs: number): ProbeSummary['buckets'] {
  const byStart = new Map<number, Sample[]>();
  for (const sample of samples) {
    const start = Math.floor(sample.at / bucketMs) * bucketMs;
    const group = byStart.get(start);
    if (group) group.push(sample);
    else byStart.set(start, [sample]);
  }
  return [...byStart]
    .sort((a, b) => a[0] - b[0])
    .map(([at, group]) => {
      const figures = latencyFigures(group);
      const values = valueRange(group);
      return {
        at,
        samples: group.length,
        errors: group.filter((s) => !s.ok).length,
        p50: figures?.p50 ?? 0,
        p99: figures?.p99 ?? 0,
        ...(values.valueMin === null || values.valueMax === null
          ? {}
          : { valueMin: values.valueMin, valueMax: values.valueMax }),
      };
    });
}

function valueRange(samples: readonly Sample[]): { valueMin: number | null; valueMax: number | null } {
  let valueMin: number | null = null;
  let valueMax: number | null = null;
  for (const { value } of samples) {
    if (value === undefined) continue;
    valueMin = Math.min(valueMin ?? value, value);
    valueMax = Math.max(valueMax ?? value, value);
  }
  return { valueMin, valueMax };
}

export function longestFailureRun(samples: readonly Sample[]): number {
  let longest = 0;
  let current = 0;
  for (const sample of samples) {
    current = sample.ok ? 0 : current + 1;
    longest = Math.max(longest, current);
  }
  return longest;
}

/** What the tolerance checks need besides the summary: the statuses seen and the counted range. */
export interface SampleFacts {
  statuses: number[];
  /** Some sample got no response at all. */
  noResponse: boolean;
  valueMin: number | null;
  valueMax: number | null;
}

export function factsOfSamples(samples: readonly Sample[]): SampleFacts {
  const statuses = [...new Set(samples.flatMap((s) => (s.status === undefined ? [] : [s.status])))];
  return {
    statuses: statuses.sort((a, b) => a - b),
    noResponse: samples.some((s) => s.status === undefined),
    ...valueRange(samples),
  };
}

/**
 * Each tolerance against what was measured: a hypothesis holds when every check is ok. A summary
 * that knows how many samples its window called for also has to have seen enough of them.
 */
export function checkTolerance(
  summary: ProbeSummary,
  measured: readonly Sample[] | SampleFacts,
  tolerance: TolerancePlan,
): ToleranceCheck[] {
  const facts = Array.isArray(measured) ? factsOfSamples(measured) : (measured as SampleFacts);
  const checks = measuredChecks(summary, facts, tolerance);
  if (summary.expected !== undefined) {
    const share = Math.min(1, summary.samples / Math.max(1, summary.expected));
    checks.push({
      measure: 'coverage',
      limit: COVERAGE_NEEDED,
      measured: Math.round(share * 1000) / 1000,
      ok: share >= COVERAGE_NEEDED,
    });
  }
  return checks;
}

function measuredChecks(
  summary: ProbeSummary,
  facts: SampleFacts,
  tolerance: TolerancePlan,
): ToleranceCheck[] {
  const checks: ToleranceCheck[] = [];
  const atMost = (measure: string, limit: number | undefined, measured: number | null) => {
    if (limit === undefined) return;
    checks.push({ measure, limit, measured, ok: measured !== null && measured <= limit });
  };
  if (tolerance.status) {
    const seen = facts.statuses;
    const unexpected = seen.filter((status) => !tolerance.status?.includes(status));
    checks.push({
      measure: 'status',
      limit: tolerance.status,
      measured: seen,
      ok: unexpected.length === 0 && !facts.noResponse,
    });
  }
  atMost('latencyP50', tolerance.latencyP50Ms, summary.latencyMs?.p50 ?? null);
  atMost('latencyP95', tolerance.latencyP95Ms, summary.latencyMs?.p95 ?? null);
  atMost('latencyP99', tolerance.latencyP99Ms, summary.latencyMs?.p99 ?? null);
  atMost('errorRate', tolerance.errorRate, summary.samples ? summary.errorRate : null);
  atMost('consecutiveFailures', tolerance.consecutiveFailures, summary.maxConsecutiveFailures);
  if (tolerance.min !== undefined) {
    const fewest = facts.valueMin;
    checks.push({
      measure: 'min',
      limit: tolerance.min,
      measured: fewest,
      ok: fewest !== null && fewest >= tolerance.min,
    });
  }
  atMost('max', tolerance.max, facts.valueMax);
  // With no explicit tolerance, a probe still has to answer: every sample a success.
  if (checks.length === 0)
    checks.push({
      measure: 'errorRate',
      limit: 0,
      measured: summary.errorRate,
      ok: summary.errors === 0 && summary.samples > 0,
    });
  return checks;
}

/**
 * Whether the latest samples breach a guardrail. errorRate and latencyP99 wait for a full window,
 * so one failed request at the start of a phase is not an outage; consecutiveFailures needs no
 * window. Measured values at or past the threshold breach.
 */
export function findBreach(
  guardrail: { name: string; probe: string; window: number; abortWhen: AbortWhenPlan },
  samples: readonly Sample[],
  now: number,
): GuardrailBreach | null {
  const { abortWhen, window } = guardrail;
  const breach = (measure: string, measured: number, threshold: number, involved: readonly Sample[]) => {
    const failing = involved.filter((s) => !s.ok).map((s) => s.at);
    return {
      guardrail: guardrail.name,
      probe: guardrail.probe,
      measure,
      measured: round(measured),
      threshold,
      decidedAt: now,
      firstFailingSampleAt: failing.length ? failing.reduce((a, b) => Math.min(a, b)) : null,
    };
  };

  if (abortWhen.consecutiveFailures !== undefined) {
    const run = trailingFailures(samples);
    if (run.length >= abortWhen.consecutiveFailures) {
      return breach('consecutiveFailures', run.length, abortWhen.consecutiveFailures, run);
    }
  }
  if (samples.length < window) return null;
  // Called on every sample, over windows of up to 10,000: one pass, no copy, and a sort only when
  // enough of the window is at the limit for its p99 to reach it.
  const start = samples.length - window;
  const limit = abortWhen.latencyP99Ms;
  let failures = 0;
  let atLimit = 0;
  for (let i = start; i < samples.length; i++) {
    const sample = samples[i] as Sample;
    if (!sample.ok) failures++;
    if (limit !== undefined && sample.latencyMs >= limit) atLimit++;
  }
  if (abortWhen.errorRate !== undefined) {
    const rate = failures / window;
    if (rate >= abortWhen.errorRate)
      return breach('errorRate', rate, abortWhen.errorRate, samples.slice(start));
  }
  // The p99 interpolates below the value at index ceil((n-1)·0.99): it reaches the limit only if
  // that many values are below it at most.
  if (limit !== undefined && atLimit >= window - Math.ceil((window - 1) * 0.99)) {
    const latest = samples.slice(start);
    const p99 = quantileSorted(
      latest.map((s) => s.latencyMs).sort((a, b) => a - b),
      0.99,
    );
    if (p99 >= limit) return breach('latencyP99', p99, limit, latest);
  }
  return null;
}

function trailingFailures(samples: readonly Sample[]): Sample[] {
  let start = samples.length;
  while (start > 0 && samples[start - 1]?.ok === false) start--;
  return samples.slice(start);
}

const round = (value: number) => Math.round(value * 10) / 10;
