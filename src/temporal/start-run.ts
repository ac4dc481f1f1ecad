/** Starts a run: one workflow whose id is the run id, so `status` and `abort` find it by that id. */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { gamedayRun } from '../../workflows/gameday-run';
import { WORKFLOW_TASK_TIMEOUT } from '../../workflows/messages';
import type { RunPlan } from '../experiment/plan';

export type RunHandle = WorkflowHandle<typeof gamedayRun>;

export class RunIdTaken extends Error {
  override name = 'RunIdTaken';
}

export async function startRun(client: Client, plan: RunPlan, taskQueue: string): Promise<RunHandle> {
  try {
    return await client.workflow.start<typeof gamedayRun>('gamedayRun', {
      workflowId: plan.runId,
      taskQueue,
      args: [plan],
      // A run id names one run forever: its journal directory and its toxics carry it.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      memo: { experiment: plan.experiment.name },
      workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new RunIdTaken(`run id ${plan.runId} is already used by another run; choose another --id`);
    }
    throw error;
  }
}
