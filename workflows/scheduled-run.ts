/**
 * A run started by a Temporal Schedule (`gameday schedule create`). The schedule's action holds the
 * experiment as it was when the schedule was created or last updated, so a later edit of the file
 * does not change what runs. Each firing plans a run from that content (an activity, since
 * planning is plain code that reads no clock) and runs it as the ordinary `gamedayRun` child, whose
 * workflow id is the run id: `gameday status`, `abort` and `approve` find it as any other run.
 */
import {
  ApplicationFailure,
  ChildWorkflowCancellationType,
  executeChild,
  ParentClosePolicy,
  patched,
  proxyActivities,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { leverText } from '../src/lever/state';
import type { gamedayRun } from './gameday-run';
import { leverEngaged } from './lever';
import { type RunResult, WORKFLOW_TASK_TIMEOUT } from './messages';
import type { ScheduledRunInput } from './scheduled-input';

export const SCHEDULED_WORKFLOW = 'scheduledGameday';

const { planScheduledRun } = proxyActivities<Pick<Activities, 'planScheduledRun'>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 5, nonRetryableErrorTypes: ['PlanRefused'] },
});

export async function scheduledGameday(input: ScheduledRunInput): Promise<RunResult> {
  const runId = scheduledRunId(workflowInfo().workflowId);
  const lever = patched('safety-lever') ? await leverEngaged() : null;
  if (lever)
    throw ApplicationFailure.create({
      type: 'LeverEngaged',
      nonRetryable: true,
      message: `firing refused, no run started: ${leverText(lever)}`,
    });
  const plan = await planScheduledRun({ ...input, runId });
  const result = await executeChild<typeof gamedayRun>('gamedayRun', {
    ...(patched('short-workflow-task-timeout') ? { workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT } : {}),
    workflowId: runId,
    args: [plan],
    memo: { experiment: plan.experiment.name },
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    // Cancelling this workflow (the schedule's CANCEL_OTHER) aborts the run and waits for its
    // rollback; terminating it (TERMINATE_OTHER, or by hand) asks the run to abort rather than
    // killing it with faults in place.
    cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
  });
  // The schedule pauses on a failed firing (pauseOnFailure): the next game day must not inject on
  // top of a fault that could not be reverted.
  if (result.outcome === 'finished' && result.verdict === 'rollback-failed')
    throw ApplicationFailure.create({
      type: 'RollbackFailed',
      nonRetryable: true,
      message: `run ${runId} ended rollback-failed (${result.reason}); the schedule is paused until someone checks what is still injected`,
    });
  return result;
}

const FIRE_TIME = /-(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const RUN_ID_MAX = 100;

/**
 * A schedule starts its workflow with the id `<scheduleId>-<fire time, RFC 3339 in UTC>`, for example
 * `nightly-2026-12-03T14:00:00Z`. The run id keeps the schedule id and writes the time as
 * `gameday run` does, without ':' (run ids are letters, digits, '.', '_' and '-'):
 * `nightly-20261203-140000`. Pure, so the workflow computes it the same way on every replay.
 */
export function scheduledRunId(workflowId: string): string {
  const match = FIRE_TIME.exec(workflowId);
  const [prefix, stamp] = match
    ? [
        workflowId.slice(0, match.index),
        `-${match[1]}${match[2]}${match[3]}-${match[4]}${match[5]}${match[6]}`,
      ]
    : [workflowId, ''];
  const safe = prefix.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'scheduled';
  return `${safe.slice(0, RUN_ID_MAX - stamp.length)}${stamp}`;
}
