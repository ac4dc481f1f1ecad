/**
 * Coverage: how much of what a window planned to sample it saw. A guardrail or an expectation
 * that saw less than COVERAGE_NEEDED of its planned samples cannot be said to have held: the
 * verdict and every report say how much it saw instead. Pure, shared by the watch, the workflow's
 * verdict and the reports.
 */
import { formatDuration } from '../experiment/duration';
import type { HypothesisCheck, Journal, PhaseRecord, ProbeSummary } from './journal';

/**
 * The share of its planned samples a check must see to hold. A worker that dies and is replaced
 * within a few seconds costs a long phase less than this; half a phase unseen never passes.
 */
export const COVERAGE_NEEDED = 0.8;

export interface Coverage {
  seen: number;
  expected: number;
  share: number;
  enough: boolean;
}

/** null for summaries from before coverage was recorded: they are judged as they were. */
export function coverageOf(summary: ProbeSummary): Coverage | null {
  if (summary.expected === undefined) return null;
  const share = Math.min(1, summary.samples / Math.max(1, summary.expected));
  return { seen: summary.samples, expected: summary.expected, share, enough: share >= COVERAGE_NEEDED };
}

/** "saw 148 of ~300 samples (49%)" */
export function coverageText(coverage: Coverage): string {
  return `saw ${coverage.seen} of ~${coverage.expected} samples (${Math.floor(coverage.share * 100)}%)`;
}

export const NEEDED_TEXT = `fewer than the ${COVERAGE_NEEDED * 100}% of planned samples a check needs to hold`;

/** Whether a check failed on what it measured, not only for seeing too little. */
export function failedOnMeasurement(check: HypothesisCheck): boolean {
  const failing = check.checks.filter((c) => !c.ok);
  return !check.ok && !(failing.length > 0 && failing.every((c) => c.measure === 'coverage'));
}

/** Each guardrail (that did not breach) and expectation of the run that saw too few samples, in words. */
export function undersampled(phases: readonly PhaseRecord[]): string[] {
  return phases.flatMap((phase) => {
    const watch = phase.watch;
    if (!watch) return [];
    const short = (what: string, summary: ProbeSummary) => {
      const coverage = coverageOf(summary);
      return coverage && !coverage.enough ? [`${what} in ${phase.name} ${coverageText(coverage)}`] : [];
    };
    return [
      ...watch.guardrails
        .filter((summary) => watch.breach?.guardrail !== summary.probe)
        .flatMap((summary) => short(`guardrail ${summary.probe}`, summary)),
      ...watch.expectations.flatMap((check) =>
        short(`expectation ${check.probe}${check.during ? ` during ${check.during}` : ''}`, check.summary),
      ),
    ];
  });
}

/** A gap as the reports list it: which window, which probe (or guardrail), when, how much. */
export interface RecordedGap {
  window: string;
  probe: string;
  from: number;
  to: number;
  missed: number;
}

/** A phase's gaps in words, as the run's event log says them when the phase ends. */
export function phaseGapTexts(phase: PhaseRecord, runStartedAt: number): string[] {
  const summaries = [
    ...(phase.watch?.guardrails ?? []),
    ...(phase.watch?.expectations.map((e) => e.summary) ?? []),
  ];
  return summaries.flatMap((summary) =>
    (summary.gaps ?? []).map((gap) =>
      gapText({ window: phase.name, probe: summary.probe, ...gap }, runStartedAt),
    ),
  );
}

/** Every gap the journal records, in time order. */
export function gapsOf(journal: Journal): RecordedGap[] {
  const windows: [string, ProbeSummary[]][] = [
    ['steady state before', journal.steadyStateBefore?.probes.map((p) => p.summary) ?? []],
    ...journal.phases.map((phase): [string, ProbeSummary[]] => [
      phase.name,
      [...(phase.watch?.guardrails ?? []), ...(phase.watch?.expectations.map((e) => e.summary) ?? [])],
    ]),
    ['steady state after', journal.steadyStateAfter?.probes.map((p) => p.summary) ?? []],
  ];
  return windows
    .flatMap(([window, summaries]) =>
      summaries.flatMap((summary) =>
        (summary.gaps ?? []).map((gap) => ({ window, probe: summary.probe, ...gap })),
      ),
    )
    .sort((a, b) => a.from - b.from);
}

/** "load-balancer-alive in dns-void: no samples for 11.5s from +12.3s (39 planned samples missed)" */
export function gapText(gap: RecordedGap, runStartedAt: number): string {
  return `${gap.probe} in ${gap.window}: no samples for ${formatDuration(gap.to - gap.from)} from +${formatDuration(gap.from - runStartedAt)} (${gap.missed} planned sample${gap.missed === 1 ? '' : 's'} missed)`;
}
