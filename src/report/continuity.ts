/**
 * The continuity plan measured (README "Continuity plan"), a pure function of the journal and the
 * read-back of the write probe's acknowledged writes. The workflow records the result in the
 * journal before the verdict; the reports render the journal's record as a scorecard.
 *
 * RTO is judged on the SLO probes' windows (their chart buckets), not on phase boundaries: a window
 * is below SLO when a probe's error rate in it is above the tolerance of the check it was sampled
 * for (0 when that check names none) or its p99 above that check's latencyP99. The longest stretch
 * below SLO runs from the first such window to the last one before a healthy window; unsampled time
 * between two windows below SLO counts with them, since nobody saw the service healthy. Recovery is
 * from the end of rollback to the first healthy window after it.
 */
import type { ContinuityPlan, ContinuityServicePlan } from '../experiment/continuity';
import { formatDuration } from '../experiment/duration';
import type {
  AcknowledgedWrite,
  ContinuityRecord,
  ReadBackResult,
  ServiceContinuity,
} from './continuity-record';
import type { HypothesisCheck, Journal, ProbeSummary } from './journal';

export type { ContinuityRecord, ReadBackResult, ServiceContinuity } from './continuity-record';

/** Lost writes the journal names one by one; the rest are counted. */
export const MAX_LOST_LISTED = 50;

type Run = Omit<Journal, 'continuity'>;

/** Every window a probe was judged in: its summary and the check whose tolerance applies. */
function checksOf(run: Run): HypothesisCheck[] {
  return [
    ...(run.steadyStateBefore?.probes ?? []),
    ...run.phases.flatMap((phase) => phase.watch?.expectations ?? []),
    ...(run.steadyStateAfter?.probes ?? []),
  ];
}

/** The write probe's acknowledged writes over the run, each id once, oldest first. */
export function acknowledgedWrites(run: Run, probe: string): { count: number; writes: AcknowledgedWrite[] } {
  const byId = new Map<string, AcknowledgedWrite>();
  let count = 0;
  for (const check of checksOf(run)) {
    const acks = check.probe === probe ? check.summary.acknowledged : undefined;
    if (!acks) continue;
    count += acks.count;
    for (const write of acks.writes) if (!byId.has(write.id)) byId.set(write.id, write);
  }
  return { count, writes: [...byId.values()].sort((a, b) => a.at - b.at) };
}

/** When rollback ended, as the run timed recovery: the last fault seen gone, the last step, the last phase's end. */
export function rolledBackAt(run: Run): number {
  return Math.max(
    run.phases.at(-1)?.endedAt ?? 0,
    ...run.faults.map((fault) => fault.revertedAt ?? 0),
    ...run.rollbackSteps.map((step) => step.at),
  );
}

interface Window {
  at: number;
  to: number;
  below: boolean;
  afterRollback: boolean;
}

function limitOf(check: HypothesisCheck, measure: string): number | undefined {
  const limit = check.checks.find((c) => c.measure === measure)?.limit;
  return typeof limit === 'number' ? limit : undefined;
}

/** The service's windows on one timeline: below SLO when any of its SLO probes was, in that window. */
function windowsOf(run: Run, service: ContinuityServicePlan): Window[] {
  const after = new Set(run.steadyStateAfter?.probes ?? []);
  const byStart = new Map<number, Window>();
  for (const check of checksOf(run)) {
    if (!service.slo.includes(check.probe)) continue;
    const errorRate = limitOf(check, 'errorRate') ?? 0;
    const p99 = limitOf(check, 'latencyP99');
    const width = bucketWidthOf(check.summary);
    for (const bucket of check.summary.buckets) {
      if (bucket.samples === 0) continue;
      const below = bucket.errors / bucket.samples > errorRate || (p99 !== undefined && bucket.p99 > p99);
      const seen = byStart.get(bucket.at);
      const window = seen ?? { at: bucket.at, to: bucket.at + width, below: false, afterRollback: false };
      window.below ||= below;
      window.afterRollback ||= after.has(check);
      byStart.set(bucket.at, window);
    }
  }
  return [...byStart.values()].sort((a, b) => a.at - b.at);
}

function bucketWidthOf(summary: ProbeSummary): number {
  if (summary.bucketMs) return summary.bucketMs;
  const [first, second] = summary.buckets;
  return first && second ? second.at - first.at : 1_000;
}

function longestBelow(windows: Window[]): { from: number; to: number; ms: number } | null {
  let longest: { from: number; to: number; ms: number } | null = null;
  let open: { from: number; to: number } | null = null;
  const close = () => {
    if (open && (!longest || open.to - open.from > longest.ms))
      longest = { from: open.from, to: open.to, ms: open.to - open.from };
    open = null;
  };
  for (const window of windows) {
    if (!window.below) close();
    else if (open) open.to = window.to;
    else open = { from: window.at, to: window.to };
  }
  close();
  return longest;
}

function measureRto(run: Run, service: ContinuityServicePlan): ServiceContinuity['rto'] {
  const windows = windowsOf(run, service);
  const longestBelowSlo = longestBelow(windows);
  const end = rolledBackAt(run);
  const healthy = windows.find((w) => w.afterRollback && !w.below && w.to > end);
  const recoveryMs = healthy ? Math.max(0, healthy.at - end) : null;
  const windowMs = Math.max(0, ...windows.map((w) => w.to - w.at));
  const held =
    windows.length > 0 &&
    recoveryMs !== null &&
    recoveryMs <= service.rtoMs &&
    (longestBelowSlo?.ms ?? 0) <= service.rtoMs;
  return { targetMs: service.rtoMs, longestBelowSlo, recoveryMs, windowMs, held };
}

function measureRpo(
  run: Run,
  service: ContinuityServicePlan,
  readBack: ReadBackResult | undefined,
): ServiceContinuity['rpo'] {
  if (!service.writeProbe) return null;
  const { count } = acknowledgedWrites(run, service.writeProbe);
  const lost = [...(readBack?.lost ?? [])].sort((a, b) => a.at - b.at);
  const unverified = readBack?.unverified.length ?? 0;
  const first = lost[0];
  const last = lost.at(-1);
  const lostSpan = first && last ? { from: first.at, to: last.at, ms: last.at - first.at } : null;
  // Nothing acknowledged is nothing measured: zero lost writes must be a finding, not a default.
  const held =
    count > 0 &&
    readBack !== undefined &&
    unverified === 0 &&
    (lost.length === 0 || (service.rpoMs > 0 && (lostSpan?.ms ?? 0) <= service.rpoMs));
  return {
    targetMs: service.rpoMs,
    writeProbe: service.writeProbe,
    acknowledged: count,
    checked: readBack?.checked ?? 0,
    lost: lost.length,
    unverified,
    lostWrites: lost.slice(0, MAX_LOST_LISTED),
    lostSpan,
    held,
  };
}

export function measureContinuity(
  run: Run,
  plan: ContinuityPlan,
  readBacks: readonly ReadBackResult[],
): ContinuityRecord {
  return {
    services: plan.services.map((service) => {
      const rto = measureRto(run, service);
      const rpo = measureRpo(
        run,
        service,
        readBacks.find((r) => r.service === service.name),
      );
      return { service: service.name, slo: service.slo, rto, rpo, held: rto.held && (rpo?.held ?? true) };
    }),
  };
}

/** The services that missed their plan, in words, for the verdict's reason. */
export function continuityMisses(record: ContinuityRecord | null | undefined): string[] {
  return (record?.services ?? []).flatMap((s) => [
    ...(s.rto.held
      ? []
      : [`${s.service} RTO ${rtoMeasured(s.rto)} against ${formatDuration(s.rto.targetMs)}`]),
    ...(s.rpo && !s.rpo.held
      ? [`${s.service} RPO ${rpoMeasured(s.rpo)} against ${formatDuration(s.rpo.targetMs)}`]
      : []),
  ]);
}

// ---------------------------------------------------------------------------------------------
// The scorecard every report shows: target, measured, held or not.

export interface ScorecardRow {
  service: string;
  measure: 'RTO' | 'RPO';
  target: string;
  measured: string;
  held: boolean;
  detail: string;
}

export function rtoMeasured(rto: ServiceContinuity['rto']): string {
  const below = rto.longestBelowSlo ? formatDuration(rto.longestBelowSlo.ms) : '0s';
  const recovery = rto.recoveryMs === null ? 'not recovered' : formatDuration(rto.recoveryMs);
  return `${below} below SLO, recovered ${recovery === 'not recovered' ? 'never' : `in ${recovery}`}`;
}

export function rpoMeasured(rpo: NonNullable<ServiceContinuity['rpo']>): string {
  if (rpo.acknowledged === 0) return 'no write acknowledged';
  if (rpo.lost === 0 && rpo.unverified === 0) return '0 writes lost';
  const span = rpo.lostSpan ? `, lost over ${formatDuration(rpo.lostSpan.ms)}` : '';
  const unverified = rpo.unverified ? `, ${rpo.unverified} unverified` : '';
  return `${rpo.lost} write${rpo.lost === 1 ? '' : 's'} lost${span}${unverified}`;
}

export function scorecard(journal: Journal): ScorecardRow[] {
  return (journal.continuity?.services ?? []).flatMap((s) => {
    const rows: ScorecardRow[] = [
      {
        service: s.service,
        measure: 'RTO',
        target: formatDuration(s.rto.targetMs),
        measured: rtoMeasured(s.rto),
        held: s.rto.held,
        detail: `SLO probes ${s.slo.join(', ')}, judged in ${formatDuration(s.rto.windowMs)} windows`,
      },
    ];
    if (s.rpo)
      rows.push({
        service: s.service,
        measure: 'RPO',
        target: s.rpo.targetMs === 0 ? 'no write lost' : formatDuration(s.rpo.targetMs),
        measured: rpoMeasured(s.rpo),
        held: s.rpo.held,
        detail: `${s.rpo.checked} of ${s.rpo.acknowledged} writes acknowledged to ${s.rpo.writeProbe} read back${
          s.rpo.lostWrites.length
            ? `; lost: ${s.rpo.lostWrites.map((w) => w.id).join(', ')}${s.rpo.lost > s.rpo.lostWrites.length ? ', ...' : ''}`
            : ''
        }`,
      });
    return rows;
  });
}
