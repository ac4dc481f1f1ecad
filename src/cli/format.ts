/** How runs look in a terminal: status blocks, verdicts, fault states. */
import pc from 'picocolors';
import type { RunStatus } from '../../workflows/messages';
import { formatDuration } from '../experiment/duration';
import type { FaultRecord, ProbeSummary, Verdict } from '../report/journal';
import type { RunView } from '../temporal/run-status';

export function verdictText(verdict: Verdict): string {
  const color = {
    passed: pc.green,
    deviated: pc.yellow,
    aborted: pc.yellow,
    'rollback-failed': pc.red,
    'not-started': pc.yellow,
  }[verdict];
  return pc.bold(color(verdict.toUpperCase()));
}

export function phaseLine(status: RunStatus, now = Date.now()): string {
  const phase = status.phase;
  const where = phase ? `phase ${phase.index + 1}/${phase.count} ${phase.name}` : 'no phase yet';
  const left =
    phase && status.stage === 'watching' ? `, ${formatDuration(Math.max(0, phase.endsAt - now))} left` : '';
  return `${status.experiment} [${status.runId}]: ${status.stage}, ${where}${left}`;
}

export function faultLine(fault: FaultRecord): string {
  const state = {
    recorded: pc.dim('recorded'),
    injected: pc.red('INJECTED'),
    reverting: pc.yellow('reverting'),
    reverted: pc.green('reverted'),
    'revert-failed': pc.bold(pc.red('REVERT FAILED')),
  }[fault.status];
  const retrying =
    fault.lastRevertError && fault.status !== 'reverted'
      ? ` (attempt ${fault.revertAttempts}, last error: ${fault.lastRevertError})`
      : '';
  return `${fault.handle.name}: ${state}${retrying}`;
}

export function probeLine(summary: ProbeSummary): string {
  if (summary.samples === 0) return `${summary.probe}: no samples yet`;
  const latency = summary.latencyMs
    ? `p50 ${summary.latencyMs.p50}ms p99 ${summary.latencyMs.p99}ms`
    : 'no samples';
  const errors = `${(summary.errorRate * 100).toFixed(0)}% errors`;
  const top = summary.topErrors[0] ? ` (${summary.topErrors[0].message})` : '';
  return `${summary.probe}: ${summary.samples} samples, ${summary.errors ? pc.red(errors) : errors}${top}, ${latency}`;
}

export function statusBlock(view: RunView, now = Date.now()): string {
  if (view.state === 'closed') {
    if (!view.result) return `the run ended ${view.closedAs} without a result`;
    if (view.result.outcome === 'locked')
      return `the run did not start: ${view.result.lockWorkflowId} was held`;
    return `${verdictText(view.result.verdict)} ${view.result.reason}${view.result.journalPath ? `\njournal: ${view.result.journalPath}` : ''}`;
  }
  const { status } = view;
  const lines = [phaseLine(status, now)];
  if (status.abort)
    lines.push(pc.yellow(`${status.abort.type} requested by ${status.abort.by}: ${status.abort.reason}`));
  if (status.waiting) {
    const { phase, since, timeoutAt } = status.waiting;
    lines.push(
      pc.bold(
        `waiting for approval of phase ${phase} since ${clock(since)} (${formatDuration(Math.max(0, now - since))}); ` +
          `aborts at ${clock(timeoutAt)} unless: gameday approve ${status.runId}`,
      ),
    );
  }
  const notes = status.notes ?? [];
  if (notes.length > 0) {
    const last = notes[notes.length - 1];
    lines.push(
      `  ${notes.length} note(s); latest ${last ? `at ${clock(last.at)} by ${last.by}: ${last.text}` : ''}`,
    );
  }
  for (const fault of status.faults) lines.push(`  fault ${faultLine(fault)}`);
  const probes = view.live.length > 0 ? view.live : status.latest;
  for (const summary of probes) lines.push(`  ${probeLine(summary)}`);
  for (const observation of view.observations) {
    const last = observation.states.at(-1);
    const state = last ? `${last.status} (${last.reason})` : 'not seen yet';
    lines.push(`  observed ${observation.fault}: ${observation.subject} ${state}`);
  }
  for (const activity of view.pending) {
    if (activity.attempt > 1) {
      lines.push(
        pc.yellow(
          `  ${activity.activity}: attempt ${activity.attempt}${activity.lastFailure ? `, last failure: ${activity.lastFailure}` : ''}`,
        ),
      );
    }
  }
  return lines.join('\n');
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 19);
}
