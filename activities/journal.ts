/** Writes a finished run's journal and its reports to `<out>/<runId>/`. */
import { Journal } from '../src/report/journal';
import { REPORT_FORMATS, type ReportFormat, type WrittenReports, writeReports } from '../src/report/write';

export type WrittenJournal = WrittenReports;

export async function writeJournal(input: {
  outDir: string;
  journal: Journal;
  /** Absent in runs planned before reports could be chosen: all of them. */
  formats?: ReportFormat[];
}): Promise<WrittenJournal> {
  return writeReports(input.outDir, Journal.parse(input.journal), input.formats ?? [...REPORT_FORMATS]);
}
