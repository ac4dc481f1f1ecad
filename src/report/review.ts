/**
 * `review.md`: the draft of the review a team writes after a game day, pre-filled from the journal
 * (summary, timeline, impact per service against its plan, hypotheses that failed) with the action
 * items left for people. Plain Markdown and a pure function of the journal: no network, no model.
 *
 * The timeline is the journal's events, its observer notes and the recovery, each at its own time
 * since the run started; when the experiment compresses an outage (timeScale other than 1) each
 * entry also carries the outage's own clock: its offset from the first phase's start, divided by
 * the time scale, as the experiment's durations were written.
 */
import { formatDuration } from '../experiment/duration';
import { scorecard } from './continuity';
import type { Journal } from './journal';
import { checkResults, percent, recoveryText } from './results';

/** Events that say how the run was set up, not what happened during the game day. */
const SETUP_EVENTS = new Set(['lock.acquired', 'aws.account', 'proxies.created', 'targets.resolved']);

export interface ReviewEntry {
  at: number;
  what: string;
  text: string;
}

/** What the review's timeline lists, oldest first: the journal's events, its notes, the recovery. */
export function reviewTimeline(journal: Journal): ReviewEntry[] {
  const entries: ReviewEntry[] = journal.events
    .filter((event) => !SETUP_EVENTS.has(event.type))
    .map((event) => ({ at: event.at, what: event.type, text: event.message }));
  for (const note of journal.notes)
    entries.push({ at: note.at, what: 'note', text: `${note.by}: ${note.text}` });
  const after = journal.steadyStateAfter;
  if (after?.ok && journal.recovery.recoveredAfterMs !== null)
    entries.push({
      at: after.probes.reduce((first, p) => Math.min(first, p.summary.from), after.endedAt),
      what: 'recovered',
      text: `steady state held again, ${formatDuration(journal.recovery.recoveredAfterMs)} after rollback`,
    });
  // A stable sort: events logged in the same millisecond keep the order the run logged them in.
  return entries
    .map((entry, i) => ({ entry, i }))
    .sort((a, b) => a.entry.at - b.entry.at || a.i - b.i)
    .map((e) => e.entry);
}

/** `T+1m05s` from the run's start, and the outage's own clock when the experiment is compressed. */
export function clocks(journal: Journal): {
  run(at: number): string;
  outage: ((at: number) => string) | null;
} {
  const run = (at: number) => `T+${clockText(Math.max(0, at - journal.startedAt))}`;
  const scale = journal.experiment.timeScale;
  const origin = journal.phases[0]?.startedAt;
  if (scale === 1 || origin === undefined) return { run, outage: null };
  const outage = (at: number) => {
    const offset = (at - origin) / scale;
    return `${offset < 0 ? '-' : '+'}${clockText(Math.abs(offset))}`;
  };
  return { run, outage };
}

function clockText(ms: number): string {
  const total = Math.round(ms / 1_000);
  const h = Math.floor(total / 3_600);
  const m = Math.floor((total % 3_600) / 60);
  const s = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}

export function renderReview(journal: Journal, options: { reportPath?: string } = {}): string {
  // Journal text is not ours: it must not close a table cell or become markup.
  const cell = (text: string) =>
    text
      .replace(/[\\|[\]()!`*_~@#]/g, (c) => `\\${c}`)
      .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))
      .replace(/\r?\n/g, ' ');
  const time = (at: number) => new Date(at).toISOString().replace('T', ' ').slice(0, 19);
  const lines: string[] = [];
  const { run, outage } = clocks(journal);

  lines.push(`# Game-day review: ${cell(journal.experiment.name)}`, '');
  lines.push(
    "_A draft pre-filled by gameday from the run's journal: correct it, then fill in the action items._",
    '',
  );

  lines.push('## Summary', '');
  lines.push(
    `- **Verdict: ${journal.verdict}**: ${cell(journal.reason)}`,
    `- Run \`${journal.runId}\`, ${time(journal.startedAt)} UTC, took ${formatDuration(journal.endedAt - journal.startedAt)} (${journal.experiment.environment})`,
    `- ${journal.phases.length} phase(s): ${journal.phases.map((p) => cell(p.name)).join(', ') || 'none ran'}; ${journal.faults.length} fault(s) injected and rolled back${journal.remaining.length ? `, **${journal.remaining.length} STILL INJECTED**` : ''}`,
    `- Recovery: ${recoveryText(journal)}`,
  );
  if (outage)
    lines.push(
      `- Time scale ${journal.experiment.timeScale}: the outage clock is the outage's own time, from the first phase's start (T0), as the experiment's durations are written`,
    );
  if (options.reportPath) lines.push(`- Full report: ${cell(options.reportPath)}`);
  if (journal.experiment.description) lines.push('', `> ${cell(journal.experiment.description)}`);
  lines.push('');

  lines.push('## Timeline', '');
  lines.push(
    outage ? '| run clock | outage clock | UTC | what | detail |' : '| run clock | UTC | what | detail |',
  );
  lines.push(outage ? '|---|---|---|---|---|' : '|---|---|---|---|');
  for (const entry of reviewTimeline(journal)) {
    const cells = [
      run(entry.at),
      ...(outage ? [outage(entry.at)] : []),
      time(entry.at).slice(11),
      cell(entry.what),
      cell(entry.text),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');

  lines.push('## Impact per service', '');
  const rows = scorecard(journal);
  if (rows.length > 0) {
    lines.push('| service | measure | plan | measured | result |', '|---|---|---|---|---|');
    for (const row of rows)
      lines.push(
        `| ${cell(row.service)} | ${row.measure} | ${cell(row.target)} | ${cell(row.measured)} | ${row.held ? 'held' : '**MISSED**'} |`,
      );
    lines.push('');
  } else {
    lines.push(
      '_The experiment has no continuity plan: add one (`continuity.services`) to measure RTO and RPO._',
      '',
    );
  }
  const phases = journal.phases.filter((phase) => phase.watch?.expectations.length);
  if (phases.length > 0) {
    lines.push(
      'Availability and p99 per phase:',
      '',
      '| phase | probe | availability | p99 |',
      '|---|---|---|---|',
    );
    for (const phase of phases)
      for (const { probe, summary } of phase.watch?.expectations ?? [])
        lines.push(
          `| ${cell(phase.name)} | ${cell(probe)} | ${summary.samples ? percent(1 - summary.errorRate) : '-'} | ${summary.latencyMs ? `${summary.latencyMs.p99}ms` : '-'} |`,
        );
    lines.push('');
  }

  lines.push('## Hypotheses that failed', '');
  const failed = checkResults(journal).filter((result) => result.ok === false);
  if (failed.length === 0) lines.push('None: every hypothesis held.');
  for (const result of failed)
    lines.push(`- **${result.group}: ${cell(result.name)}**: ${cell(result.failure || result.measured)}`);
  lines.push('');

  lines.push('## Action items', '', '| # | action | owner | due |', '|---|---|---|---|');
  for (const n of [1, 2, 3]) lines.push(`| ${n} |  |  |  |`);
  lines.push('');
  return lines.join('\n');
}
