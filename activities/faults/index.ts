/**
 * Resolve, inject and revert any fault by its handle. A new provider adds one file here and one
 * case in each switch; the workflow does not change.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { FaultHandle } from '../../src/report/journal';
import { heartbeating, type Liveness, leaveDeadWorkerBehind } from '../liveness';
import { injectEc2, resolveEc2, revertEc2 } from './aws-ec2';
import { injectFis, revertFis } from './aws-fis';
import { injectToxiproxy, revertToxiproxy } from './toxiproxy';

/** Fills in what a fault will touch (which EC2 instances), before anything is injected. */
export async function resolveFault(handle: FaultHandle): Promise<FaultHandle> {
  switch (handle.provider) {
    case 'awsEc2':
      return { ...handle, awsEc2: await resolveEc2(handle.awsEc2) };
    case 'toxiproxy':
    case 'awsFis':
      return handle;
  }
}

/** Applies a fault; returns its handle with anything learnt on the way (an FIS experiment id). */
export async function injectFault(handle: FaultHandle): Promise<{ injectedAt: number; handle: FaultHandle }> {
  const earlier = previousAttempt<{ injectedAt: number }>();
  return heartbeating(async (liveness) => {
    const stillCurrent = attemptGuard(liveness);
    const left = leaveDeadWorkerBehind();
    const injected = await applyFault(handle, stillCurrent);
    await left;
    // In place from the first attempt that got this far, if that attempt's worker died before
    // Temporal heard it complete.
    const injectedAt = earlier?.injectedAt ?? Date.now();
    liveness.carry({ injectedAt });
    return { injectedAt, handle: injected };
  });
}

async function applyFault(handle: FaultHandle, stillCurrent: () => void): Promise<FaultHandle> {
  switch (handle.provider) {
    case 'toxiproxy':
      return { ...handle, toxiproxy: await injectToxiproxy(handle.toxiproxy, stillCurrent) };
    case 'awsEc2': {
      const firstAttempt = Context.current().info.attempt === 1;
      return { ...handle, awsEc2: await injectEc2(handle.awsEc2, stillCurrent, firstAttempt) };
    }
    case 'awsFis':
      return { ...handle, awsFis: await injectFis(handle.awsFis, stillCurrent) };
  }
}

export interface Reverted {
  /** When the fault was seen gone: after the provider's revert has taken effect, not before. */
  revertedAt: number;
  alreadyGone: boolean;
  handle: FaultHandle;
  note?: string;
}

export async function revertFault(handle: FaultHandle): Promise<Reverted> {
  const earlier = previousAttempt<Pick<Reverted, 'revertedAt' | 'alreadyGone'>>();
  return heartbeating(async (liveness) => {
    const left = leaveDeadWorkerBehind();
    const reverted = await removeFault(handle);
    await left;
    // Reverts are idempotent, so a retry after a crash runs again; but if the attempt that died had
    // already removed the fault, it was gone since then, and not "already gone" before this run.
    const gone = earlier ?? { revertedAt: Date.now(), alreadyGone: reverted.alreadyGone };
    liveness.carry(gone);
    return { ...reverted, ...gone };
  });
}

async function removeFault(handle: FaultHandle): Promise<Omit<Reverted, 'revertedAt'>> {
  switch (handle.provider) {
    case 'toxiproxy':
      return { handle, ...(await revertToxiproxy(handle.toxiproxy)) };
    case 'awsEc2':
      return { handle, ...(await revertEc2(handle.awsEc2)) };
    case 'awsFis': {
      const { alreadyGone, handle: fis } = await revertFis(handle.awsFis);
      return { alreadyGone, handle: { ...handle, awsFis: fis } };
    }
  }
}

/** What the previous attempt of this activity heartbeated, if it got that far. */
function previousAttempt<T>(): T | undefined {
  const { attempt, heartbeatDetails } = Context.current().info;
  return attempt > 1 && heartbeatDetails ? (heartbeatDetails as T) : undefined;
}

/**
 * Temporal does not stop an attempt that has timed out; it schedules the next one. An attempt on a
 * stalled worker could then apply its fault after the run has reverted it. So before each change an
 * inject checks that its own attempt has not outlived its timeouts: Temporal has cancelled it, its
 * start-to-close time is nearly up, or its worker went silent for nearly a heartbeat timeout (an
 * event loop blocked that long may have missed the server's deadline; a shorter stall on a busy
 * machine has not).
 */
function attemptGuard(liveness: Liveness): () => void {
  const context = Context.current();
  const begun = Date.now();
  const { startToCloseTimeoutMs, heartbeatTimeoutMs } = context.info;
  return () => {
    const late = Date.now() > begun + startToCloseTimeoutMs - STALE_MARGIN_MS;
    const silent =
      heartbeatTimeoutMs !== undefined &&
      heartbeatTimeoutMs > 0 &&
      liveness.longestSilenceMs() > heartbeatTimeoutMs - SILENCE_MARGIN_MS;
    if (late || silent || context.cancellationSignal.aborted) {
      throw ApplicationFailure.retryable(
        'this inject attempt outlived its timeout; not applying it late',
        'StaleAttempt',
      );
    }
  };
}

const STALE_MARGIN_MS = 1_000;
/** A beat reaches the server up to 250ms (the worker's throttle) after the ticker sends it. */
const SILENCE_MARGIN_MS = 500;
