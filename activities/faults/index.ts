/**
 * Resolve, inject and revert any fault by its handle. A new provider adds one file here and one
 * case in each switch; the workflow does not change.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { FaultHandle } from '../../src/report/journal';
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
  const stillCurrent = attemptGuard();
  switch (handle.provider) {
    case 'toxiproxy': {
      const toxiproxy = await injectToxiproxy(handle.toxiproxy, stillCurrent);
      return { injectedAt: Date.now(), handle: { ...handle, toxiproxy } };
    }
    case 'awsEc2': {
      const firstAttempt = Context.current().info.attempt === 1;
      const awsEc2 = await injectEc2(handle.awsEc2, stillCurrent, firstAttempt);
      return { injectedAt: Date.now(), handle: { ...handle, awsEc2 } };
    }
    case 'awsFis':
      return {
        injectedAt: Date.now(),
        handle: { ...handle, awsFis: await injectFis(handle.awsFis, stillCurrent) },
      };
  }
}

export async function revertFault(
  handle: FaultHandle,
): Promise<{ revertedAt: number; alreadyGone: boolean; handle: FaultHandle; note?: string }> {
  switch (handle.provider) {
    case 'toxiproxy':
      return { revertedAt: Date.now(), handle, ...(await revertToxiproxy(handle.toxiproxy)) };
    case 'awsEc2':
      return { revertedAt: Date.now(), handle, ...(await revertEc2(handle.awsEc2)) };
    case 'awsFis': {
      const { alreadyGone, handle: fis } = await revertFis(handle.awsFis);
      return { revertedAt: Date.now(), alreadyGone, handle: { ...handle, awsFis: fis } };
    }
  }
}

/**
 * Temporal does not stop an attempt that has timed out; it schedules the next one. An attempt on a
 * stalled worker could then apply its fault after the run has reverted it. So before each change an
 * inject checks that its own attempt has not outlived its timeouts.
 */
function attemptGuard(): () => void {
  const begun = Date.now();
  const { startToCloseTimeoutMs, heartbeatTimeoutMs } = Context.current().info;
  const limit = Math.min(startToCloseTimeoutMs, heartbeatTimeoutMs || Number.POSITIVE_INFINITY);
  return () => {
    if (Date.now() > begun + limit - 1_000) {
      throw ApplicationFailure.retryable(
        'this inject attempt outlived its timeout; not applying it late',
        'StaleAttempt',
      );
    }
  };
}
