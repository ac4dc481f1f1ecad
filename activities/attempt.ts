/**
 * What every fault activity shares: the previous attempt's heartbeat, the stale-attempt guard, and
 * the two failure kinds a provider throws (src/providers/fault-provider.ts) as Temporal failures.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { isProviderFailure } from '../src/providers/fault-provider';
import type { Liveness } from './liveness';

/** What the previous attempt of this activity heartbeated, if it got that far. */
export function previousAttempt<T>(): T | undefined {
  const { attempt, heartbeatDetails } = Context.current().info;
  return attempt > 1 && heartbeatDetails ? (heartbeatDetails as T) : undefined;
}

/**
 * Refused is final (nothing changed; the run exits 64); unavailable is retried, and exits 69 when
 * the retries run out. The engine knows these two types and no provider's own.
 */
export function asTemporalFailure(error: unknown): unknown {
  if (!isProviderFailure(error)) return error;
  return error.kind === 'refused'
    ? ApplicationFailure.nonRetryable(error.message, 'Refused')
    : ApplicationFailure.retryable(error.message, 'Unavailable');
}

/** Runs a provider call, its failures as Temporal failures. */
export async function providerCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asTemporalFailure(error);
  }
}

/**
 * Temporal does not stop an attempt that has timed out; it schedules the next one. An attempt on a
 * stalled worker could then apply its fault after the run has reverted it. So before each change an
 * inject checks that its own attempt has not outlived its timeouts: Temporal has cancelled it, its
 * start-to-close time is nearly up, or its worker went silent for nearly a heartbeat timeout (an
 * event loop blocked that long may have missed the server's deadline; a shorter stall on a busy
 * machine has not).
 */
export function attemptGuard(liveness: Liveness): () => void {
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
