/**
 * Which reports a run writes beside its journal: part of the run plan, so it lives with the plan
 * (src/report renders them; src/experiment imports nothing from src/report).
 */
export const REPORT_FORMATS = ['html', 'md', 'junit', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
