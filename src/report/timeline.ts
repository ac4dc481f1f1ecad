/**
 * A run as time series: each probe's sample buckets from every part of the run (steady state
 * before, each phase's watch, steady state after), where it went unsampled, the phase and fault
 * windows, and the moments a guardrail breached or someone aborted. The HTML charts draw exactly
 * this: a line never crosses time in which the probe took no sample.
 */
import { formatDuration } from '../experiment/duration';
import type { ProbeKindName } from '../providers';
import { describeHandle } from './fault-text';
import type { Journal, ProbeSummary } from './journal';

export interface Bucket {
  at: number;
  /** Where the chart draws it: its start, or the end of a gap that ends inside it. */
  x: number;
  samples: number;
  errors: number;
  p50: number;
  p99: number;
  valueMin?: number;
  valueMax?: number;
  /** Nothing was sampled between the previous bucket and this one: the line breaks here. */
  afterGap: boolean;
}

/** What a probe measures, and so how it is charted: its kind (src/providers registers them). */
export type ProbeKind = ProbeKindName;

export interface ProbeTimeline {
  probe: string;
  kind: ProbeKind;
  /** ec2Fleet: the count a sample must be within. */
  range: { min?: number; max?: number };
  buckets: Bucket[];
  /** Stretches in which the probe should have been sampled and was not. */
  gaps: Window[];
}

export interface Window {
  label: string;
  from: number;
  to: number;
  detail: string;
}

export interface Marker {
  kind: 'breach' | 'abort';
  at: number;
  label: string;
}

export interface Timeline {
  from: number;
  to: number;
  probes: ProbeTimeline[];
  phases: Window[];
  faults: Window[];
  markers: Marker[];
}

export function timelineOf(journal: Journal): Timeline {
  const summaries: ProbeSummary[] = [
    ...(journal.steadyStateBefore?.probes.map((check) => check.summary) ?? []),
    ...journal.phases.flatMap((phase) => [
      ...(phase.watch?.expectations.map((check) => check.summary) ?? []),
      ...(phase.watch?.guardrails ?? []),
    ]),
    ...(journal.steadyStateAfter?.probes.map((check) => check.summary) ?? []),
  ];
  const ended = (at: number | undefined) => at ?? journal.endedAt;
  return {
    from: journal.startedAt,
    to: journal.endedAt,
    probes: probeTimelines(journal, summaries),
    phases: journal.phases.map((phase) => ({
      label: phase.name,
      from: phase.startedAt,
      to: ended(phase.endedAt),
      detail: `phase ${phase.name}: ${phase.faults.join(', ') || 'no faults'}`,
    })),
    faults: journal.faults
      .filter((fault) => fault.injectedAt !== undefined)
      .map((fault) => ({
        label: fault.handle.name,
        from: fault.injectedAt as number,
        to: ended(fault.revertedAt),
        detail: `${fault.handle.name}: ${describeHandle(fault.handle)}${fault.revertedAt === undefined ? ' (NOT REVERTED)' : ''}`,
      })),
    markers: [
      ...journal.phases.flatMap((phase) =>
        phase.watch?.breach
          ? [
              {
                kind: 'breach' as const,
                at: phase.watch.breach.decidedAt,
                label: `guardrail ${phase.watch.breach.guardrail} breached: ${phase.watch.breach.measure} ${phase.watch.breach.measured}`,
              },
            ]
          : [],
      ),
      // An approval is not an interruption: only aborts and cancellations are marked.
      ...journal.signals
        .filter((signal) => signal.type !== 'approve')
        .map((signal) => ({
          kind: 'abort' as const,
          at: signal.at,
          label: `${signal.type} by ${signal.by}: ${signal.reason}`,
        })),
    ],
  };
}

/** A fault's own window within its phase, in words, for the reports' fault tables. */
export interface FaultWindowRow {
  fault: string;
  phase: string;
  injectedAt?: number;
  revertedAt?: number;
  /** "+40s to +1m20s of lease-collapse, 40s in place"; or why it never went in. */
  window: string;
}

/**
 * Each fault's window against its phase's clock (which starts when the phase's first faults are in
 * place), and the faults of a phase that never went in because it stopped before their start.
 */
export function faultWindowRows(journal: Journal): FaultWindowRow[] {
  const clockOf = (phase: string) => {
    const record = journal.phases.find((p) => p.name === phase);
    return record?.watch?.startedAt ?? record?.startedAt;
  };
  const offset = (at: number, clock: number) =>
    `${at < clock ? '-' : '+'}${formatDuration(Math.abs(at - clock))}`;
  const injected = journal.faults.map((fault): FaultWindowRow => {
    const { name, phase } = fault.handle;
    const clock = clockOf(phase);
    const row = { fault: name, phase, injectedAt: fault.injectedAt, revertedAt: fault.revertedAt };
    if (fault.injectedAt === undefined) return { ...row, window: 'never in place' };
    const inPlace =
      fault.revertedAt === undefined
        ? 'NOT REVERTED'
        : `${formatDuration(fault.revertedAt - fault.injectedAt)} in place`;
    if (clock === undefined) return { ...row, window: inPlace };
    const to = fault.revertedAt === undefined ? 'the end' : offset(fault.revertedAt, clock);
    return { ...row, window: `${offset(fault.injectedAt, clock)} to ${to} of ${phase}, ${inPlace}` };
  });
  const skipped = journal.phases.flatMap((phase) =>
    (phase.notInjected ?? []).map((fault) => ({
      fault,
      phase: phase.name,
      window: 'never injected: the phase stopped before its start',
    })),
  );
  return [...injected, ...skipped];
}

/** One timeline per probe name, from every summary of it, in time order. */
function probeTimelines(journal: Journal, summaries: ProbeSummary[]): ProbeTimeline[] {
  const byProbe = new Map<string, ProbeSummary[]>();
  for (const summary of summaries)
    byProbe.set(summary.probe, [...(byProbe.get(summary.probe) ?? []), summary]);
  const limits = toleranceLimits(journal);
  return [...byProbe].map(([probe, group]) => {
    const gaps = group.flatMap((summary) =>
      (summary.gaps ?? []).map((gap) => ({
        label: 'no samples',
        from: gap.from,
        to: gap.to,
        detail: `${probe}: no samples for ${formatDuration(gap.to - gap.from)} (+${formatDuration(gap.from - journal.startedAt)} to +${formatDuration(gap.to - journal.startedAt)}), ${gap.missed} planned sample(s) missed`,
      })),
    );
    const known = group.find((summary) => summary.kind)?.kind;
    const range = group.find((summary) => summary.range)?.range ?? limits.get(probe) ?? {};
    // Journals from before probe kinds were recorded: only ec2Fleet probes count, or have min/max.
    const counts = group.some((s) => s.buckets.some((b) => b.valueMin !== undefined));
    const kind = known ?? (counts || limits.has(probe) ? 'ec2Fleet' : 'http');
    return { probe, kind, range, buckets: joined(group, gaps), gaps };
  });
}

/**
 * The buckets of every summary of one probe, each marked where the line must break before it:
 * an empty bucket between it and the previous one, or a recorded gap. A probe that is both a
 * guardrail and an expectation is sampled twice: the first bucket of a start is kept.
 */
function joined(group: ProbeSummary[], gaps: Window[]): Bucket[] {
  const byStart = new Map<number, { bucket: ProbeSummary['buckets'][number]; width: number }>();
  for (const summary of group) {
    const width = summary.bucketMs ?? bucketWidthOf(summary);
    for (const bucket of summary.buckets)
      if (!byStart.has(bucket.at)) byStart.set(bucket.at, { bucket, width });
  }
  const sorted = [...byStart.values()]
    .sort((a, b) => a.bucket.at - b.bucket.at)
    .map(({ bucket, width }) => {
      const endsInside = gaps.find((gap) => gap.to > bucket.at && gap.to < bucket.at + width);
      return { bucket, width, x: endsInside ? endsInside.to : bucket.at };
    });
  return sorted.map(({ bucket, x }, i) => {
    const previous = sorted[i - 1];
    const afterGap =
      previous !== undefined &&
      (bucket.at - previous.bucket.at > 1.5 * previous.width ||
        gaps.some((gap) => gap.from < x && gap.to > previous.x));
    return { ...bucket, x, afterGap };
  });
}

/** The width journals from before `bucketMs` was recorded used: whole seconds, at most 120 buckets. */
function bucketWidthOf(summary: ProbeSummary): number {
  return Math.max(1_000, Math.ceil((summary.to - summary.from) / 120 / 1_000) * 1_000);
}

/** min and max tolerances by probe: the range an ec2Fleet count is judged against. */
function toleranceLimits(journal: Journal): Map<string, { min?: number; max?: number }> {
  const limits = new Map<string, { min?: number; max?: number }>();
  const checks = [
    ...(journal.steadyStateBefore?.probes ?? []),
    ...journal.phases.flatMap((phase) => phase.watch?.expectations ?? []),
  ];
  for (const check of checks) {
    for (const tolerance of check.checks) {
      if ((tolerance.measure !== 'min' && tolerance.measure !== 'max') || typeof tolerance.limit !== 'number')
        continue;
      limits.set(check.probe, { ...limits.get(check.probe), [tolerance.measure]: tolerance.limit });
    }
  }
  return limits;
}
