/** Writes a run's journal and the reports chosen for it into the run's directory. */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPORT_FORMATS, type ReportFormat } from '../experiment/report-formats';
import { renderHtml } from './html';
import type { Journal } from './journal';
import { renderJunit } from './junit';
import { renderMarkdown } from './markdown';
import { renderReview } from './review';

export { REPORT_FORMATS, type ReportFormat } from '../experiment/report-formats';

export const REPORT_FILES: Record<ReportFormat, string> = {
  html: 'report.html',
  md: 'report.md',
  junit: 'junit.xml',
  json: 'journal.json',
};

/** The review draft, written beside the Markdown report whenever that is. */
export const REVIEW_FILE = 'review.md';

/** `html,md` → the formats, or an error that names what is not a format. */
export function parseReportFormats(text: string): ReportFormat[] {
  const asked = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const unknown = asked.filter((part) => !(REPORT_FORMATS as readonly string[]).includes(part));
  if (unknown.length > 0 || asked.length === 0)
    throw new Error(
      `--report ${JSON.stringify(text)}: ${unknown.length ? `unknown format ${unknown.join(', ')}` : 'no format'}; choose from ${REPORT_FORMATS.join(',')}`,
    );
  return [...new Set(asked)] as ReportFormat[];
}

export function renderReport(
  journal: Journal,
  format: ReportFormat,
  options: { htmlPath?: string } = {},
): string {
  switch (format) {
    case 'html':
      return renderHtml(journal);
    case 'md':
      return renderMarkdown(journal, options);
    case 'junit':
      return renderJunit(journal);
    case 'json':
      return `${JSON.stringify(journal, null, 2)}\n`;
  }
}

export interface WrittenReports {
  journalPath: string;
  /** The report a person opens first: the HTML when it was written. */
  reportPath: string;
  reports: Partial<Record<ReportFormat, string>>;
}

/**
 * The journal is always written, whatever the formats: it is the record every report is
 * re-rendered from (`gameday report`).
 */
export async function writeReports(
  outDir: string,
  journal: Journal,
  formats: readonly ReportFormat[],
): Promise<WrittenReports> {
  await mkdir(outDir, { recursive: true });
  const reports: Partial<Record<ReportFormat, string>> = {};
  for (const format of new Set<ReportFormat>(['json', ...formats])) {
    const path = join(outDir, REPORT_FILES[format]);
    const htmlPath = formats.includes('html') ? REPORT_FILES.html : undefined;
    await writeAtomically(path, renderReport(journal, format, { htmlPath }));
    reports[format] = path;
  }
  if (formats.includes('md'))
    await writeAtomically(
      join(outDir, REVIEW_FILE),
      renderReview(journal, { reportPath: reports.html ? REPORT_FILES.html : undefined }),
    );
  const journalPath = reports.json as string;
  return { journalPath, reportPath: reports.html ?? reports.md ?? reports.junit ?? journalPath, reports };
}

/** A reader never sees half a file: write beside it, then rename over it. */
async function writeAtomically(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}
