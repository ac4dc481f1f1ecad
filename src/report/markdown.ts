/**
 * The short Markdown summary for a pull request or a chat: verdict, the hypothesis results table,
 * recovery time, and where the full HTML report is. The HTML has the timeline and every detail.
 */
import { formatDuration } from '../experiment/duration';
import { scorecard } from './continuity';
import { gapsOf, gapText } from './coverage';
import { describeHandle } from './fault-text';
import type { Journal } from './journal';
import { checkResults, recoveryText } from './results';
import { faultWindowRows } from './timeline';

export function renderMarkdown(journal: Journal, options: { htmlPath?: string } = {}): string {
  const time = (at: number | undefined) => (at === undefined ? '-' : new Date(at).toISOString());
  // Journal text is not ours: keep it from closing a table cell, breaking a line or becoming markup
  // (a link, an image fetched from elsewhere, emphasis, an @mention in a pull request).
  const cell = (text: string) =>
    text
      .replace(/[\\|[\]()!`*_~@#]/g, (c) => `\\${c}`)
      .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))
      .replace(/\r?\n/g, ' ');
  const lines: string[] = [];

  lines.push(`# ${cell(journal.experiment.name)}: ${journal.verdict}`, '');
  lines.push(cell(journal.reason), '');
  if (journal.experiment.description) lines.push(`> ${cell(journal.experiment.description)}`, '');
  lines.push(
    `- run: \`${journal.runId}\`, started ${time(journal.startedAt)}, took ${formatDuration(journal.endedAt - journal.startedAt)}`,
    `- recovery: ${recoveryText(journal)}`,
  );
  if (options.htmlPath)
    lines.push(`- full report: [${cell(options.htmlPath)}](${encodeURI(options.htmlPath)})`);
  lines.push('');

  if (journal.remaining.length > 0) {
    lines.push('## STILL INJECTED', '');
    for (const item of journal.remaining) lines.push(`- **${cell(item.what)}**: ${cell(item.detail)}`);
    lines.push('');
  }

  lines.push(
    '## Hypothesis results',
    '',
    '| check | name | result | measured | why |',
    '|---|---|---|---|---|',
  );
  for (const result of checkResults(journal)) {
    const outcome =
      result.ok === null
        ? 'not run'
        : result.ok
          ? 'held'
          : result.error
            ? '**ERROR**'
            : result.undersampled
              ? '**TOO FEW SAMPLES**'
              : '**FAILED**';
    lines.push(
      `| ${result.group} | ${cell(result.name)} | ${outcome} | ${cell(result.measured)} | ${cell(result.failure)} |`,
    );
  }
  lines.push('');

  if (journal.continuity) {
    lines.push(
      '## Continuity plan',
      '',
      '| service | measure | target | measured | result | how |',
      '|---|---|---|---|---|---|',
    );
    for (const row of scorecard(journal))
      lines.push(
        `| ${cell(row.service)} | ${row.measure} | ${cell(row.target)} | ${cell(row.measured)} | ${row.held ? 'held' : '**MISSED**'} | ${cell(row.detail)} |`,
      );
    lines.push('');
  }

  const gaps = gapsOf(journal);
  if (gaps.length > 0) {
    lines.push('## Gaps in the record', '');
    for (const gap of gaps) lines.push(`- ${cell(gapText(gap, journal.startedAt))}`);
    lines.push('');
  }

  const windows = faultWindowRows(journal);
  if (windows.length > 0) {
    lines.push(
      '## Faults',
      '',
      '| fault | phase | injected | reverted | window | revert attempts | what |',
      '|---|---|---|---|---|---|---|',
    );
    for (const row of windows) {
      const fault = journal.faults.find((f) => f.handle.name === row.fault);
      lines.push(
        `| ${cell(row.fault)} | ${cell(row.phase)} | ${time(row.injectedAt)} | ${time(row.revertedAt)} | ${cell(row.window)} | ${fault?.revertAttempts ?? 0} | ${fault ? cell(describeHandle(fault.handle)) : 'not injected'} |`,
      );
    }
    lines.push('');
  }

  const people = [
    ...journal.signals.map((s) => ({ at: s.at, text: `${s.type} by ${s.by}: ${s.reason}` })),
    ...journal.notes.map((n) => ({ at: n.at, text: `note by ${n.by}: ${n.text}` })),
  ].sort((a, b) => a.at - b.at);
  if (people.length > 0) {
    lines.push('## Signals and notes', '');
    for (const entry of people) lines.push(`- ${time(entry.at)} ${cell(entry.text)}`);
    lines.push('');
  }
  return lines.join('\n');
}
