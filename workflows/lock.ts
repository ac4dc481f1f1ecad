/**
 * The run lock: one open workflow per lock key. Temporal allows only one running workflow per id,
 * so a lock is a child workflow whose id is the key. It ends when the run releases it, and is
 * terminated with its parent if the run is terminated, so a lock never outlives its run.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ChildWorkflowCancellationType,
  condition,
  log,
  ParentClosePolicy,
  setHandler,
  startChild,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { RunPlan } from '../src/experiment/plan';
import { lockWorkflowId, releaseLockSignal } from './messages';

export type HeldLock = { acquired: true; workflowId: string; release(): Promise<void> };
export type RunLock = HeldLock | { acquired: false; workflowId: string };

export async function acquireRunLock(plan: RunPlan): Promise<RunLock> {
  const workflowId = lockWorkflowId(plan.experiment.name);
  try {
    const child = await startChild(runLock, {
      workflowId,
      args: [{ holder: plan.runId }],
      memo: { holder: plan.runId },
      parentClosePolicy: ParentClosePolicy.TERMINATE,
      // Cancelling a run must not cancel its lock: the run still rolls back while holding it.
      cancellationType: ChildWorkflowCancellationType.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    const release = async () => {
      // A lock that is already gone (terminated by hand, say) is released all the same.
      await child.signal(releaseLockSignal).catch((error) => log.warn('lock release failed', { error }));
    };
    return { acquired: true, workflowId, release };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { acquired: false, workflowId };
    throw error;
  }
}

/** Holds a lock until released. */
export async function runLock(_input: { holder: string }): Promise<void> {
  let released = false;
  setHandler(releaseLockSignal, () => {
    released = true;
  });
  await condition(() => released);
}
