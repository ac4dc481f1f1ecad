/**
 * Every hypothesis check of a run as one flat list: steady state before, each phase's
 * expectations and guardrails, steady state after, recovery, rollback. The Markdown table, the
 * HTML table and the JUnit testcases are all this list, so they cannot disagree.
 */
import { formatDuration } from '../experiment/duration';
import { COVERAGE_NEEDED, coverageOf, coverageText, failedOnMeasurement, NEEDED_TEXT } from './coverage';
import type { HypothesisCheck, Journal, ProbeSummary, ToleranceCheck } from './journal';

export type ResultGroup =
  | 'steady state before'
  | 'phase'
  | 'guardrail'
  | 'steady state after'
  | 'recovery'
  | 'rollback'
  | 'run';

export interface CheckResult {
  group: ResultGroup;
  /** Unique within the run, for example `dns-void: orders-read`. */
  name: string;
  /** null when the check never ran (an earlier step ended the run). */
  ok: boolean | null;
  /** What was measured, in words. */
  measured: string;
  /** What was allowed, in words. */
  tolerance: string;
  /** Why it failed: each tolerance missed, with the measured value. */
  failure: string;
  durationMs: number;
  /** A failure of the run itself (an abort by a person, an inject that failed) rather than of a hypothesis. */
  error?: boolean;
  /** Not held only because it saw too few of its planned samples. */
  undersampled?: boolean;
}

export function checkResults(journal: Journal): CheckResult[] {
  const results: CheckResult[] = [];
  const steadyState = (group: ResultGroup, state: Journal['steadyStateBefore'], plannedProbes: string[]) => {
    if (!state) {
      for (const probe of plannedProbes)
        results.push(notRun(group, probe, 'the run ended before this check'));
      return;
    }
    for (const check of state.probes) results.push(hypothesis(group, check.probe, check));
  };

  const steadyProbes =
    (journal.steadyStateBefore ?? journal.steadyStateAfter)?.probes.map((p) => p.probe) ?? [];
  steadyState('steady state before', journal.steadyStateBefore, steadyProbes);

  for (const phase of journal.phases) {
    const watch = phase.watch;
    if (!watch) {
      const why = phase.endedAt
        ? 'the run was stopped during this phase, before its figures were collected'
        : 'the phase was not watched (its faults could not be injected)';
      results.push(notRun('phase', phase.name, why));
      continue;
    }
    for (const check of watch.expectations)
      results.push(hypothesis('phase', `${phase.name}: ${checkName(check)}`, check));
    // A guardrail's summary is named after the guardrail, not after the probe it samples.
    for (const summary of watch.guardrails) {
      const breach = watch.breach?.guardrail === summary.probe ? watch.breach : null;
      const coverage = coverageOf(summary);
      const unseen = !breach && coverage !== null && !coverage.enough;
      results.push({
        group: 'guardrail',
        name: `${phase.name}: ${breach?.guardrail ?? summary.probe}`,
        ok: !breach && !unseen,
        measured: figures(summary),
        tolerance: breach
          ? `${breach.measure} below ${formatMeasure(breach.measure, breach.threshold)}`
          : coverage
            ? `no breach, ${describeTolerance(coverageCheck())}`
            : 'no breach',
        failure: breach
          ? `guardrail ${breach.guardrail} breached: ${breach.measure} ${formatMeasure(breach.measure, breach.measured)} reached ${formatMeasure(breach.measure, breach.threshold)}`
          : unseen && coverage
            ? `${coverageText(coverage)}: ${NEEDED_TEXT}`
            : '',
        durationMs: summary.to - summary.from,
        ...(unseen ? { undersampled: true } : {}),
      });
    }
  }

  if (journal.verdict !== 'not-started')
    steadyState('steady state after', journal.steadyStateAfter, steadyProbes);

  const { withinMs, recoveredAfterMs } = journal.recovery;
  if (journal.verdict !== 'not-started') {
    results.push({
      group: 'recovery',
      name: 'recovery',
      ok: recoveredAfterMs !== null ? recoveredAfterMs <= withinMs : journal.steadyStateAfter ? false : null,
      measured:
        recoveredAfterMs === null
          ? 'did not recover'
          : `recovered ${formatDuration(recoveredAfterMs)} after rollback`,
      tolerance: `within ${formatDuration(withinMs)}`,
      failure:
        recoveredAfterMs === null
          ? `steady state did not return within ${formatDuration(withinMs)} of rollback`
          : recoveredAfterMs > withinMs
            ? `recovered after ${formatDuration(recoveredAfterMs)}, allowed ${formatDuration(withinMs)}`
            : '',
      durationMs: recoveredAfterMs ?? 0,
    });
  }

  const failedSteps = journal.rollbackSteps.filter((step) => !step.ok);
  const rolledBack = journal.remaining.length === 0 && failedSteps.length === 0;
  results.push({
    group: 'rollback',
    name: 'rollback',
    ok: rolledBack,
    measured: `${journal.faults.filter((f) => f.status === 'reverted').length} of ${journal.faults.length} fault(s) reverted, ${journal.rollbackSteps.length - failedSteps.length} of ${journal.rollbackSteps.length} rollback step(s) done`,
    tolerance: 'every fault reverted, every rollback step done',
    failure: rolledBack
      ? ''
      : [
          ...journal.remaining.map((item) => `STILL INJECTED: ${item.what}: ${item.detail}`),
          ...failedSteps.map((step) => `rollback step ${step.name} failed: ${step.error ?? ''}`),
        ].join('\n'),
    durationMs: 0,
  });

  // A run that did not pass must never read green: when no check above failed (an abort by a
  // person, an inject or a check that failed, a refusal before anything ran), this one says why.
  const unexplained = journal.verdict !== 'passed' && !results.some((result) => result.ok === false);
  results.push({
    group: 'run',
    name: 'run completed',
    ok: !unexplained,
    measured: journal.verdict,
    tolerance: 'passed',
    failure: unexplained ? `${journal.verdict}: ${journal.reason}` : '',
    durationMs: journal.endedAt - journal.startedAt,
    error: unexplained,
  });
  return results;
}

/** An expectation's name in a phase: its probe, and the fault whose window it judged (`during`). */
export function checkName(check: Pick<HypothesisCheck, 'probe' | 'during'>): string {
  return check.during ? `${check.probe} during ${check.during}` : check.probe;
}

/** Recovery in words: recovered after how long, did not recover, or never measured. */
export function recoveryText(journal: Journal): string {
  const { recoveredAfterMs, withinMs } = journal.recovery;
  if (recoveredAfterMs !== null)
    return `${formatDuration(recoveredAfterMs)} after rollback (allowed ${formatDuration(withinMs)})`;
  if (journal.steadyStateAfter) return `NOT within ${formatDuration(withinMs)} of rollback`;
  return 'not measured (the run ended before the steady state was checked again)';
}

/** What a hypothesis check measured against what it allowed, for each tolerance it broke. */
export function failureText(check: HypothesisCheck): string {
  const coverage = coverageOf(check.summary);
  return check.checks
    .filter((c) => !c.ok)
    .map((c) =>
      c.measure === 'coverage' && coverage
        ? `${coverageText(coverage)}, ${NEEDED_TEXT}`
        : `${c.measure}: measured ${formatMeasured(c)}, tolerance ${describeTolerance(c)}`,
    )
    .join('; ');
}

function hypothesis(group: ResultGroup, name: string, check: HypothesisCheck): CheckResult {
  const unseen = !check.ok && !failedOnMeasurement(check);
  return {
    group,
    name,
    ok: check.ok,
    measured: figures(check.summary),
    tolerance: check.checks.map(describeTolerance).join(', '),
    failure: failureText(check),
    durationMs: check.summary.to - check.summary.from,
    ...(unseen ? { undersampled: true } : {}),
  };
}

const coverageCheck = (): ToleranceCheck => ({
  measure: 'coverage',
  limit: COVERAGE_NEEDED,
  measured: null,
  ok: true,
});

function notRun(group: ResultGroup, name: string, why: string): CheckResult {
  return { group, name, ok: null, measured: 'not measured', tolerance: '', failure: why, durationMs: 0 };
}

export function describeTolerance(check: ToleranceCheck): string {
  if (check.measure === 'status') return `status in ${JSON.stringify(check.limit)}`;
  if (check.measure === 'min') return `min ≥ ${check.limit}`;
  if (check.measure === 'coverage')
    return `at least ${Math.round((check.limit as number) * 100)}% of planned samples seen`;
  return `${check.measure} ≤ ${formatMeasure(check.measure, check.limit as number)}`;
}

function formatMeasured(check: ToleranceCheck): string {
  if (check.measured === null) return 'nothing (no samples)';
  if (Array.isArray(check.measured)) return JSON.stringify(check.measured);
  return formatMeasure(check.measure, check.measured);
}

export function formatMeasure(measure: string, value: number): string {
  if (measure === 'errorRate' || measure === 'coverage') return `${percent(value)}`;
  if (measure.startsWith('latency')) return `${value}ms`;
  return String(value);
}

export function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio === 1 || ratio === 0 ? 0 : 1)}%`;
}

export function figures(summary: ProbeSummary): string {
  const coverage = coverageOf(summary);
  if (summary.samples === 0) return coverage ? `no samples of ~${coverage.expected} planned` : 'no samples';
  const latency = summary.latencyMs ? `, p50 ${summary.latencyMs.p50}ms, p99 ${summary.latencyMs.p99}ms` : '';
  const count =
    coverage && coverage.seen < coverage.expected
      ? `${coverage.seen} of ~${coverage.expected} samples (${Math.floor(coverage.share * 100)}%)`
      : `${summary.samples} samples`;
  return `${count}, ${percent(summary.errorRate)} errors${latency}`;
}

/** Availability of each expectation probe during a phase: the share of its samples that succeeded. */
export function phaseAvailability(phase: Journal['phases'][number]): Map<string, number> {
  const availability = new Map<string, number>();
  for (const { summary } of phase.watch?.expectations ?? [])
    if (summary.samples > 0) availability.set(summary.probe, 1 - summary.errorRate);
  return availability;
}
