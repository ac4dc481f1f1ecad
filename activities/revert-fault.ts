/** Removes any fault by its handle, through its provider. Idempotent, as every provider's revert is. */
import { Context } from '@temporalio/activity';
import { bodyOf, type FaultHandle, providerOf, withBody } from '../src/providers';
import { previousAttempt, providerCall } from './attempt';
import { heartbeating, leaveDeadWorkerBehind } from './liveness';

export interface Reverted {
  /** When the fault was seen gone: after the provider's revert has taken effect, not before. */
  revertedAt: number;
  alreadyGone: boolean;
  handle: FaultHandle;
  note?: string;
}

export async function revertFault(handle: FaultHandle): Promise<Reverted> {
  const earlier = previousAttempt<Pick<Reverted, 'revertedAt' | 'alreadyGone'>>();
  const context = Context.current();
  return heartbeating(async (liveness) => {
    const left = leaveDeadWorkerBehind();
    const reverted = await providerCall(() =>
      providerOf(handle).revert(bodyOf(handle), {
        fault: handle.name,
        // A revert is never stale: removing a fault late is still removing it.
        beforeChange: () => undefined,
        firstAttempt: context.info.attempt === 1,
        signal: context.cancellationSignal,
      }),
    );
    await left;
    // Reverts are idempotent, so a retry after a crash runs again; but if the attempt that died had
    // already removed the fault, it was gone since then, and not "already gone" before this run.
    const gone = earlier ?? { revertedAt: Date.now(), alreadyGone: reverted.alreadyGone };
    liveness.carry(gone);
    return {
      handle: reverted.handle === undefined ? handle : withBody(handle, reverted.handle),
      ...(reverted.note ? { note: reverted.note } : {}),
      ...gone,
    };
  });
}
