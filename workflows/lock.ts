/**
 * Run locks: one open workflow per lock key. Temporal allows only one running workflow per id, so
 * a lock is a child workflow whose id is the key. It ends when the run releases it, and is
 * terminated with its parent if the run is terminated, so a lock never outlives its run. A run
 * holds one on its experiment's name and, once it knows them, one on each target it touches.
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
import { lockWorkflowId, releaseLockSignal } from './messages';

export type HeldLock = { acquired: true; workflowId: string; release(): Promise<void> };
export type RunLock = HeldLock | { acquired: false; workflowId: string };

export async function acquireLock(key: string, holder: string): Promise<RunLock> {
  const workflowId = lockWorkflowId(key);
  try {
    const child = await startChild(runLock, {
      workflowId,
      args: [{ holder }],
      memo: { holder },
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

/**
 * All of the keys or none: on the first one held by another run, the ones taken are given back.
 * Keys are taken in sorted order, so two runs never each wait on the other (and none waits at all).
 */
export async function acquireLocks(keys: string[], holder: string): Promise<RunLock[]> {
  const held: HeldLock[] = [];
  for (const key of [...keys].sort()) {
    const lock = await acquireLock(key, holder);
    if (!lock.acquired) {
      await Promise.all(held.map((h) => h.release()));
      return [lock];
    }
    held.push(lock);
  }
  return held;
}

/** Holds a lock until released. */
export async function runLock(_input: { holder: string }): Promise<void> {
  let released = false;
  setHandler(releaseLockSignal, () => {
    released = true;
  });
  await condition(() => released);
}
