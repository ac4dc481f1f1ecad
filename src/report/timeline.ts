/**
 * A run as time series: each probe's sample buckets from every part of the run (steady state
 * before, each phase's watch, steady state after), the phase and fault windows, and the moments
 * a guardrail breached or someone aborted. The HTML charts draw exactly this.
 */
import { describeHandle } from './fault-text';
import type { Journal, ProbeSummary } from './journal';

export interface Bucket {
  at: number;
  samples: number;
  errors: number;
  p50: number;
  p99: number;
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
  probes: { probe: string; buckets: Bucket[] }[];
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
  // A probe that is both a guardrail and an expectation is sampled once: keep one bucket per second.
  const byProbe = new Map<string, Map<number, Bucket>>();
  for (const summary of summaries) {
    const buckets = byProbe.get(summary.probe) ?? new Map<number, Bucket>();
    for (const bucket of summary.buckets) if (!buckets.has(bucket.at)) buckets.set(bucket.at, bucket);
    byProbe.set(summary.probe, buckets);
  }
  const ended = (at: number | undefined) => at ?? journal.endedAt;
  return {
    from: journal.startedAt,
    to: journal.endedAt,
    probes: [...byProbe].map(([probe, buckets]) => ({
      probe,
      buckets: [...buckets.values()].sort((a, b) => a.at - b.at),
    })),
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
