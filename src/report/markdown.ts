/** A plain Markdown report of a journal: what was injected, what the service did, how it ended. */
import { formatDuration } from '../experiment/duration';
import { describeHandle } from './fault-text';
import type { HypothesisCheck, Journal, ProbeSummary } from './journal';

export function renderMarkdown(journal: Journal): string {
  const lines: string[] = [];
  const time = (at: number | undefined) => (at === undefined ? '-' : new Date(at).toISOString());
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

  lines.push(`# ${journal.experiment.name}: ${journal.verdict}`, '');
  lines.push(cell(journal.reason), '');
  lines.push(`> ${cell(journal.experiment.description)}`, '');
  lines.push(
    `- run: \`${journal.runId}\``,
    `- started ${time(journal.startedAt)}, took ${formatDuration(journal.endedAt - journal.startedAt)}`,
    `- environment: ${journal.experiment.environment}, time scale ${journal.experiment.timeScale}` +
      (journal.environment.awsAccount ? `, AWS account ${journal.environment.awsAccount.id}` : ''),
    `- recovery: ${
      journal.recovery.recoveredAfterMs === null
        ? `not within ${formatDuration(journal.recovery.withinMs)}`
        : `${formatDuration(journal.recovery.recoveredAfterMs)} after rollback (allowed ${formatDuration(journal.recovery.withinMs)})`
    }`,
    '',
  );

  if (journal.remaining.length > 0) {
    lines.push('## STILL INJECTED', '');
    for (const item of journal.remaining) lines.push(`- **${item.what}**: ${cell(item.detail)}`);
    lines.push('');
  }

  lines.push('## Steady state', '');
  lines.push(
    ...hypothesisTable([
      ...(journal.steadyStateBefore?.probes ?? []).map((check) => ['before', check] as const),
      ...(journal.steadyStateAfter?.probes ?? []).map((check) => ['after', check] as const),
    ]),
  );
  lines.push('');

  lines.push('## Phases', '');
  for (const phase of journal.phases) {
    const watch = phase.watch;
    lines.push(`### ${phase.name} (${formatDuration(phase.plannedMs)})`, '');
    lines.push(
      `- ${time(phase.startedAt)} to ${time(phase.endedAt)}; faults: ${phase.faults.join(', ') || 'none'}`,
    );
    if (watch?.breach) {
      const b = watch.breach;
      lines.push(
        `- **guardrail ${b.guardrail} breached**: ${b.measure} ${b.measured} reached ${b.threshold} at ${time(b.decidedAt)}`,
      );
    }
    if (watch && watch.attempts > 1)
      lines.push(`- the watch resumed after a worker was lost (${watch.attempts} attempts)`);
    for (const observation of watch?.fis ?? []) {
      const states =
        observation.states.map((s) => `${s.status} at ${time(s.at)}`).join(', then ') || 'no state seen';
      lines.push(`- FIS experiment ${observation.experimentId} (${observation.fault}): ${states}`);
    }
    lines.push('');
    if (watch?.guardrails.length) lines.push(...summaryTable('guardrail', watch.guardrails), '');
    if (watch?.expectations.length) {
      lines.push(...hypothesisTable(watch.expectations.map((check) => ['expectation', check] as const)), '');
    }
  }

  lines.push('## Faults', '');
  lines.push('| fault | phase | injected | reverted | revert attempts | note |', '|---|---|---|---|---|---|');
  for (const fault of journal.faults) {
    const touched = describeHandle(fault.handle);
    const note = [
      touched,
      fault.injectError ?? fault.lastRevertError ?? (fault.alreadyGone ? 'already gone at revert' : ''),
    ]
      .filter(Boolean)
      .join('; ');
    lines.push(
      `| ${fault.handle.name} | ${fault.handle.phase} | ${time(fault.injectedAt)} | ${time(fault.revertedAt)} | ${fault.revertAttempts} | ${cell(note)} |`,
    );
  }
  lines.push('');

  if (journal.rollbackSteps.length > 0) {
    lines.push('## Rollback steps', '');
    for (const step of journal.rollbackSteps) {
      lines.push(
        `- ${step.name}: ${step.ok ? 'ok' : `FAILED (${cell(step.error ?? '')})`} after ${step.attempts} attempt(s)`,
      );
    }
    lines.push('');
  }

  if (journal.signals.length > 0) {
    lines.push('## Signals', '');
    for (const signal of journal.signals)
      lines.push(`- ${time(signal.at)} ${signal.type} by ${cell(signal.by)}: ${cell(signal.reason)}`);
    lines.push('');
  }

  lines.push('## Events', '');
  for (const event of journal.events)
    lines.push(`- ${time(event.at)} \`${event.type}\` ${cell(event.message)}`);
  lines.push('');
  return lines.join('\n');
}

function hypothesisTable(rows: (readonly [string, HypothesisCheck])[]): string[] {
  if (rows.length === 0) return ['(not checked)'];
  return [
    '| when | probe | result | measured | why |',
    '|---|---|---|---|---|',
    ...rows.map(([when, check]) => {
      const failed = check.checks
        .filter((c) => !c.ok)
        .map((c) => `${c.measure} ${JSON.stringify(c.measured)} > ${JSON.stringify(c.limit)}`);
      return `| ${when} | ${check.probe} | ${check.ok ? 'held' : 'FAILED'} | ${figures(check.summary)} | ${failed.join('; ')} |`;
    }),
  ];
}

function summaryTable(label: string, summaries: ProbeSummary[]): string[] {
  return [
    `| ${label} | measured | top errors |`,
    '|---|---|---|',
    ...summaries.map(
      (s) =>
        `| ${s.probe} | ${figures(s)} | ${s.topErrors.map((e) => `${e.message} (${e.count})`).join(', ')} |`,
    ),
  ];
}

function figures(summary: ProbeSummary): string {
  const latency = summary.latencyMs
    ? `p50 ${summary.latencyMs.p50}ms, p99 ${summary.latencyMs.p99}ms`
    : 'no samples';
  return `${summary.samples} samples, ${(summary.errorRate * 100).toFixed(1)}% errors, ${latency}`;
}
