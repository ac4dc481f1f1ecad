/** The journal's format version; apart from journal.ts so workflow code can name it without zod. */
export const JOURNAL_VERSION = 1;
