/**
 * Coverage and gaps: what a window of sampling planned against what it sampled. Pure functions of
 * the samples' start times and the planned interval, per probe and window; the reports draw the
 * gaps, and a check that saw too little of its window cannot hold (src/report/coverage.ts).
 */
import type { SampleGap } from '../../src/report/journal';
import type { Sample } from './samples';

/** A window of sampling: when it ran, how often the probe was to be sampled, and its timeout. */
export interface SamplingWindow {
  from: number;
  to: number;
  everyMs: number;
  /**
   * Requests still running when the window closes are dropped, so samples planned in its last
   * `tailMs` (the probe's timeout) are not expected.
   */
  tailMs: number;
}

/** A stretch of time in which samples started no further apart than a gap. */
export interface Span {
  from: number;
  to: number;
}

/** How many samples the window called for: one at its start, then one every `everyMs`. */
export function expectedSamples(window: SamplingWindow): number {
  const end = window.to - window.tailMs;
  return end <= window.from ? 1 : Math.floor((end - window.from) / window.everyMs) + 1;
}

/**
 * No sample started for longer than this is a gap: at least two planned samples in a row, and
 * at least a second (timers slip on a busy machine; a late sample is not a missing one).
 */
export function gapThreshold(everyMs: number): number {
  return Math.max(1_000, 2.5 * everyMs);
}

/** Spans kept per series; past that the two closest are merged (coverage stays exact). */
const MAX_SPANS = 200;

/** `spans` (sorted, further apart than a gap) with a sample started at `at` added, as a new list. */
export function addCovered(spans: readonly Span[], at: number, thresholdMs: number): Span[] {
  // Samples mostly arrive in order: look from the end.
  let i = spans.length;
  while (i > 0 && (spans[i - 1] as Span).from > at) i--;
  const out = [...spans.slice(0, i), { from: at, to: at }, ...spans.slice(i)];
  const previous = out[i - 1];
  if (previous && at <= previous.to + thresholdMs) {
    out.splice(i - 1, 2, { from: previous.from, to: Math.max(previous.to, at) });
    i--;
  }
  for (let next = out[i + 1]; next && next.from <= (out[i] as Span).to + thresholdMs; next = out[i + 1]) {
    out.splice(i, 2, { from: (out[i] as Span).from, to: Math.max((out[i] as Span).to, next.to) });
  }
  return out.length > MAX_SPANS ? mergeClosest(out) : out;
}

function mergeClosest(spans: Span[]): Span[] {
  let closest = 0;
  for (let i = 1; i < spans.length - 1; i++) {
    const gap = (spans[i + 1] as Span).from - (spans[i] as Span).to;
    if (gap < (spans[closest + 1] as Span).from - (spans[closest] as Span).to) closest = i;
  }
  const [a, b] = [spans[closest] as Span, spans[closest + 1] as Span];
  return [...spans.slice(0, closest), { from: a.from, to: b.to }, ...spans.slice(closest + 2)];
}

/** The spans covered by these samples' start times. */
export function coveredBy(samples: readonly Sample[], everyMs: number): Span[] {
  return samples.reduce<Span[]>((spans, sample) => addCovered(spans, sample.at, gapThreshold(everyMs)), []);
}

/**
 * The stretches of the window in which the probe should have been sampled and was not: before
 * the first sample, between covered spans, and after the last, each longer than a gap.
 */
export function findGaps(spans: readonly Span[], window: SamplingWindow): SampleGap[] {
  const threshold = gapThreshold(window.everyMs);
  const end = window.to - window.tailMs;
  const gaps: SampleGap[] = [];
  const add = (from: number, to: number, missed: number) => {
    if (to - from > threshold && missed > 0)
      gaps.push({ from: Math.round(from), to: Math.round(to), missed });
  };
  const first = spans[0];
  if (!first) {
    add(window.from, end, expectedSamples(window));
    return gaps;
  }
  add(window.from, first.from, Math.round((first.from - window.from) / window.everyMs));
  for (let i = 1; i < spans.length; i++) {
    const [a, b] = [(spans[i - 1] as Span).to, (spans[i] as Span).from];
    add(a, b, Math.round((b - a) / window.everyMs) - 1);
  }
  const last = spans.at(-1) as Span;
  add(last.to, end, Math.floor((end - last.to) / window.everyMs));
  return gaps;
}
