/**
 * Inject and revert any fault by its handle. A new provider adds one file here and one case in
 * each switch; the workflow does not change.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { FaultHandle } from '../../src/report/journal';
import { injectToxiproxy, revertToxiproxy } from './toxiproxy';

export async function injectFault(handle: FaultHandle): Promise<{ injectedAt: number }> {
  const stillCurrent = attemptGuard();
  switch (handle.provider) {
    case 'toxiproxy':
      await injectToxiproxy(handle.toxiproxy, stillCurrent);
      break;
  }
  return { injectedAt: Date.now() };
}

/**
 * Temporal does not stop an attempt that has timed out; it schedules the next one. An attempt on a
 * stalled worker could then apply its fault after the run has reverted it. So before each change an
 * inject checks that its own attempt has not outlived its start-to-close timeout.
 */
function attemptGuard(): () => void {
  const begun = Date.now();
  const { startToCloseTimeoutMs } = Context.current().info;
  return () => {
    if (Date.now() > begun + startToCloseTimeoutMs - 1_000) {
      throw ApplicationFailure.retryable(
        'this inject attempt outlived its timeout; not applying it late',
        'StaleAttempt',
      );
    }
  };
}

export async function revertFault(
  handle: FaultHandle,
): Promise<{ revertedAt: number; alreadyGone: boolean }> {
  let alreadyGone: boolean;
  switch (handle.provider) {
    case 'toxiproxy':
      ({ alreadyGone } = await revertToxiproxy(handle.toxiproxy));
      break;
  }
  return { revertedAt: Date.now(), alreadyGone };
}
