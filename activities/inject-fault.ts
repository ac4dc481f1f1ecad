/** Applies any fault by its handle, through its provider; the handle comes back with what it learnt. */
import { Context } from '@temporalio/activity';
import { bodyOf, describeHandle, type FaultHandle, providerOf, withBody } from '../src/providers';
import { attemptGuard, previousAttempt, providerCall } from './attempt';
import { heartbeating, leaveDeadWorkerBehind } from './liveness';

export interface Injected {
  injectedAt: number;
  handle: FaultHandle;
  /** What it touches, in words, for the workflow's event log (which names no provider). */
  description: string;
  /**
   * A retry that found no earlier attempt's moment in place: `injectedAt` is this attempt's, late
   * by however long Temporal took to give up on the one before (a dead worker: the heartbeat
   * timeout). The phase's clock does not wait for it (workflows/gameday-run.ts).
   */
  retried?: true;
}

export async function injectFault(handle: FaultHandle): Promise<Injected> {
  const earlier = previousAttempt<{ injectedAt: number }>();
  const context = Context.current();
  return heartbeating(async (liveness) => {
    const beforeChange = attemptGuard(liveness);
    const left = leaveDeadWorkerBehind();
    const body = await providerCall(() =>
      providerOf(handle).inject(bodyOf(handle), {
        fault: handle.name,
        beforeChange,
        firstAttempt: context.info.attempt === 1,
        signal: context.cancellationSignal,
      }),
    );
    await left;
    // In place from the first attempt that got this far, if that attempt's worker died before
    // Temporal heard it complete.
    const injectedAt = earlier?.injectedAt ?? Date.now();
    liveness.carry({ injectedAt });
    const injected = withBody(handle, body);
    const retried = context.info.attempt > 1 && !earlier ? { retried: true as const } : {};
    return { injectedAt, handle: injected, description: describeHandle(injected), ...retried };
  });
}
