/**
 * The input of a scheduled firing, in a module of its own: the workflow (scheduled-run.ts), the
 * activity that plans it (activities/plan-scheduled.ts) and the CLI that stores it all import it,
 * and none of them has to import another (activities/index must not reach the workflow code).
 */
import type { Experiment } from '../src/experiment/schema';
import type { ReportFormat } from '../src/report/write';

/** What a schedule stores in its action's arguments: everything a firing needs to plan a run. */
export interface ScheduledRunInput {
  /** The experiment as parsed and validated at `schedule create`/`update`, env references resolved. */
  experiment: Experiment;
  /** Absolute path and sha256 of the file the content was read from. */
  file: string;
  sha256: string;
  /** Runs write `<outRoot>/<runId>/journal.json`. */
  outRoot: string;
  /** The planner's overrides (TOXIPROXY_URL, AWS_REGION, AWS_ENDPOINT_URL*) as they were at create. */
  env: Record<string, string>;
  allowProduction: boolean;
  reports?: ReportFormat[];
  /** When the content was stored (ISO 8601) and by whom, for `schedule describe`. */
  storedAt: string;
  storedBy: string;
}
