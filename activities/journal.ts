/** Writes a finished run's journal and its plain Markdown report to `<out>/<runId>/`. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Journal } from '../src/report/journal';
import { renderMarkdown } from '../src/report/markdown';

export interface WrittenJournal {
  journalPath: string;
  reportPath: string;
}

export async function writeJournal(input: { outDir: string; journal: Journal }): Promise<WrittenJournal> {
  const journal = Journal.parse(input.journal);
  await mkdir(input.outDir, { recursive: true });
  const journalPath = join(input.outDir, 'journal.json');
  const reportPath = join(input.outDir, 'report.md');
  await writeAtomically(journalPath, `${JSON.stringify(journal, null, 2)}\n`);
  await writeAtomically(reportPath, renderMarkdown(journal));
  return { journalPath, reportPath };
}

/** A reader never sees half a journal: write beside it, then rename over it. */
async function writeAtomically(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}
