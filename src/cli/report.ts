/** `gameday report`: re-render a journal in any format, or many journals of one experiment as a trend. */

import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Command } from 'commander';
import { compareRuns, renderCompareMarkdown } from '../report/compare';
import { renderCompareHtml } from '../report/compare-html';
import { Journal } from '../report/journal';
import { renderTrend } from '../report/trend';
import { REPORT_FILES, REPORT_FORMATS, type ReportFormat, renderReport } from '../report/write';
import { CliError, EXIT } from './exit-codes';
import { fsReason, writeOutput, writeStdout } from './output';

interface ReportOptions {
  format: string;
  trend?: string;
  compare?: string[];
  experiment?: string;
  out?: string;
}

export function registerReport(program: Command): void {
  program
    .command('report [journal]')
    .description(
      'render a journal as a report, or with --trend DIR every journal under DIR as one trend page',
    )
    .option('--format <format>', `${REPORT_FORMATS.join('|')} (a trend is always html)`, 'html')
    .option(
      '--trend <dir>',
      'one HTML page from every journal.json under DIR: verdict, recovery, availability per run',
    )
    .option(
      '--compare <journals...>',
      'runs of one experiment side by side (html or md): per phase and service, and what differs',
    )
    .option('--experiment <name>', 'with --trend, the experiment to show when DIR holds several')
    .option('--out <file>', 'write to FILE instead of stdout')
    .action(async (file: string | undefined, options: ReportOptions) => {
      let text: string;
      if (options.compare) {
        if (file || options.trend)
          throw new CliError(
            'give --compare its journals alone, without a journal or --trend',
            EXIT.invalidInput,
          );
        text = await comparison(options.compare, options.format);
      } else if (options.trend) {
        if (file) throw new CliError('give either a journal or --trend DIR, not both', EXIT.invalidInput);
        text = renderTrend(await trendJournals(options.trend, options.experiment));
      } else {
        if (!file) throw new CliError('name a journal.json to render, or --trend DIR', EXIT.invalidInput);
        if (!(REPORT_FORMATS as readonly string[]).includes(options.format))
          throw new CliError(
            `--format ${options.format}: choose one of ${REPORT_FORMATS.join(', ')}`,
            EXIT.invalidInput,
          );
        // The Markdown links the HTML report when it sits beside the journal, as a run writes them.
        const html = join(dirname(file), REPORT_FILES.html);
        const htmlPath = existsSync(html) ? relative(process.cwd(), html) : undefined;
        text = renderReport(await readJournal(file), options.format as ReportFormat, { htmlPath });
      }
      if (options.out) await writeOutput(options.out, text);
      else await writeStdout(text);
    });
}

/**
 * Two or more journals of one experiment compared. Runs of different experiments are refused: their
 * phases and probes do not line up, so a side-by-side page would compare nothing.
 */
async function comparison(files: string[], format: string): Promise<string> {
  if (format !== 'html' && format !== 'md')
    throw new CliError(`--format ${format}: a comparison is html or md`, EXIT.invalidInput);
  if (files.length < 2) throw new CliError('--compare needs at least two journals', EXIT.invalidInput);
  const journals: Journal[] = [];
  for (const file of files) journals.push(await readJournal(file));
  const first = journals[0] as Journal;
  const other = journals.findIndex((j) => j.experiment.name !== first.experiment.name);
  if (other >= 0)
    throw new CliError(
      `--compare: ${files[other]} is a run of ${journals[other]?.experiment.name}, ${files[0]} of ${first.experiment.name}: compare runs of one experiment`,
      EXIT.invalidInput,
    );
  const compared = compareRuns(journals);
  return format === 'html' ? renderCompareHtml(compared) : renderCompareMarkdown(compared);
}

async function readJournal(file: string): Promise<Journal> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${file}: cannot read a journal: ${fsReason(error, file)}`, EXIT.invalidInput);
  }
  const parsed = Journal.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new CliError(
      `${file}: not a gameday journal: ${first?.path.join('.')}: ${first?.message}`,
      EXIT.invalidInput,
    );
  }
  return parsed.data;
}

async function trendJournals(dir: string, experiment: string | undefined): Promise<Journal[]> {
  let entries: string[];
  try {
    entries = (await readdir(dir, { recursive: true })).filter(
      (path) => path.split(/[\\/]/).at(-1) === 'journal.json',
    );
  } catch (error) {
    throw new CliError(`--trend ${dir}: ${fsReason(error, dir)}`, EXIT.invalidInput);
  }
  // One unreadable night must not hide all the others: skip it, and say so.
  const read = await Promise.all(
    entries.sort().map((path) =>
      readJournal(join(dir, path)).catch((error: Error) => {
        console.error(`gameday: skipped ${error.message}`);
        return null;
      }),
    ),
  );
  const journals = read.filter((journal): journal is Journal => journal !== null);
  const names = [...new Set(journals.map((journal) => journal.experiment.name))].sort();
  if (journals.length === 0)
    throw new CliError(`--trend ${dir}: no readable journal.json under it`, EXIT.invalidInput);
  if (experiment) {
    const chosen = journals.filter((journal) => journal.experiment.name === experiment);
    if (chosen.length === 0)
      throw new CliError(
        `--trend ${dir}: no run of ${experiment}; it holds ${names.join(', ')}`,
        EXIT.invalidInput,
      );
    return chosen;
  }
  if (names.length > 1)
    throw new CliError(
      `--trend ${dir} holds runs of ${names.length} experiments (${names.join(', ')}); choose one with --experiment`,
      EXIT.invalidInput,
    );
  return journals;
}
