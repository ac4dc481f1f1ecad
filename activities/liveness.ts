/**
 * How a fault activity shows Temporal that its worker is alive. Inject and revert have a 3s
 * heartbeat timeout, so a worker killed mid-call is noticed within 3s and another worker retries;
 * but a live worker waiting on a slow AWS call must not look dead. So they heartbeat on a ticker,
 * whatever the call in progress, and keep their own record of the longest silence between beats.
 */
import { Context } from '@temporalio/activity';

/** Often enough that the server hears from a live worker several times per heartbeat timeout. */
export const BEAT_EVERY_MS = 250;

export interface Liveness {
  /** The details every later beat carries (what a retried attempt reads back). */
  carry(details: unknown): void;
  /** The longest time the ticker could not run since the attempt began: a blocked event loop. */
  longestSilenceMs(): number;
}

/** Runs `work` while heartbeating every BEAT_EVERY_MS; stops the ticker when it settles. */
export async function heartbeating<T>(work: (liveness: Liveness) => Promise<T>): Promise<T> {
  const context = Context.current();
  let details: unknown;
  let lastBeat = Date.now();
  let longestSilence = 0;
  const beat = () => {
    const now = Date.now();
    longestSilence = Math.max(longestSilence, now - lastBeat);
    lastBeat = now;
    context.heartbeat(details);
  };
  beat();
  const ticker = setInterval(beat, BEAT_EVERY_MS);
  try {
    return await work({
      carry(next) {
        details = next;
        beat();
      },
      longestSilenceMs: () => Math.max(longestSilence, Date.now() - lastBeat),
    });
  } finally {
    clearInterval(ticker);
  }
}

/**
 * A retried attempt most often means the worker of the last one died, and that worker probably
 * also held the workflow in its cache: the workflow's next task would wait on the dead worker's
 * sticky queue before Temporal hands it to anyone else. Resetting it sends that task straight to
 * the shared queue, where live workers poll. A live previous worker only loses its cache.
 */
const RESET_WAIT_MS = 1_000;

export async function leaveDeadWorkerBehind(): Promise<void> {
  const context = Context.current();
  const { attempt, workflowExecution, workflowNamespace, namespace } = context.info;
  if (attempt <= 1 || !workflowExecution) return;
  try {
    const reset = context.client.workflowService.resetStickyTaskQueue({
      namespace: workflowNamespace ?? namespace,
      execution: { workflowId: workflowExecution.workflowId, runId: workflowExecution.runId },
    });
    // Never held up by it: a server slow to answer must not delay the revert it precedes.
    await Promise.race([reset, new Promise((resolve) => setTimeout(resolve, RESET_WAIT_MS))]);
  } catch {
    // Only a shortcut: without it the task still reaches a live worker after the sticky timeout.
  }
}
