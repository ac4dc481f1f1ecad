/**
 * What a run says to the world and hears from it: its input and result, the `status` query and
 * the `abort` signal. Shared by the workflow and the CLI.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RunPlan } from '../src/experiment/plan';
import type {
  FaultRecord,
  Journal,
  ObserverNote,
  ProbeSummary,
  Signal,
  Verdict,
} from '../src/report/journal';
import type { ReportFormat } from '../src/report/write';

export const TASK_QUEUE = 'gameday';

/**
 * How long a worker may hold one of a run's workflow tasks before Temporal gives it to another.
 * A worker killed while it held one (the task that ends a phase, say) keeps the run's faults in
 * for this long; Temporal's default is 10s. The same as the activities' heartbeat timeout, so a
 * dead worker costs a run as long whichever task it held. A task of these workflows takes
 * milliseconds; one that takes 3s is on a worker too starved to watch guardrails (docs/scaling.md).
 */
export const WORKFLOW_TASK_TIMEOUT = '3s';

export type Stage =
  | 'locking'
  | 'preparing'
  | 'steady-state-before'
  | 'awaiting-approval'
  | 'injecting'
  | 'watching'
  | 'reverting-phase'
  | 'rolling-back'
  | 'rollback-steps'
  | 'steady-state-after'
  | 'writing-journal'
  | 'finished';

export interface RunStatus {
  runId: string;
  experiment: string;
  stage: Stage;
  startedAt: number;
  phase: { name: string; index: number; count: number; startedAt: number; endsAt: number } | null;
  faults: FaultRecord[];
  /** Summaries from the latest finished check or phase; live figures come from the watch's heartbeat. */
  latest: ProbeSummary[];
  abort: Signal | null;
  verdict: Verdict | null;
  /** What the run waits for from a person, and since when; absent in runs from before gates. */
  waiting?: Waiting | null;
  notes?: ObserverNote[];
}

export interface Waiting {
  for: 'approval';
  phase: string;
  since: number;
  timeoutAt: number;
}

export interface ApprovalRequest {
  by: string;
  /** Approve only this phase's gate: a stale approval must not open a later one. */
  phase?: string;
}

export interface ApprovalAnswer {
  accepted: boolean;
  message: string;
}

export interface NoteRequest {
  by: string;
  text: string;
}

export interface AbortRequest {
  reason: string;
  by: string;
}

export type RunResult =
  | {
      outcome: 'finished';
      verdict: Verdict;
      reason: string;
      /** Why nothing ran, when a required service or target was not there. */
      refused: 'unavailable' | 'invalid-target' | null;
      journalPath: string | null;
      reportPath: string | null;
      /** Every report written, by format. */
      reports: Partial<Record<ReportFormat, string>>;
      journal: Journal;
    }
  | { outcome: 'locked'; lockWorkflowId: string };

export type RunInput = RunPlan;

export const statusQuery = defineQuery<RunStatus>('status');
export const abortSignal = defineSignal<[AbortRequest]>('abort');
export const releaseLockSignal = defineSignal('release');
export const approveUpdate = defineUpdate<ApprovalAnswer, [ApprovalRequest]>('approve');
export const noteUpdate = defineUpdate<ObserverNote, [NoteRequest]>('note');

export function lockWorkflowId(experiment: string): string {
  return `gameday-lock-${experiment}`;
}
