/**
 * `gameday worker --sweep-every`: the sweep on a timer. A fault is reverted only once it has been
 * seen orphaned for the whole grace period, sweep after sweep: a run that is just starting (its
 * workflow not yet visible to this server, say) is never swept on one look.
 */
import type { Client } from '@temporalio/client';
import type { SweepSource } from './marks';
import { faultKey, sweep } from './sweep';

export interface SweepTimer {
  stop(): Promise<void>;
}

export function sweepEvery(
  client: Client,
  sources: SweepSource[],
  { everyMs, graceMs, log }: { everyMs: number; graceMs: number; log: (line: string) => void },
): SweepTimer {
  const firstSeen = new Map<string, number>();
  let running: Promise<void> = Promise.resolve();
  const once = async () => {
    const now = Date.now();
    const result = await sweep(client, sources, {
      apply: true,
      ripe: (fault) => now - (firstSeen.get(faultKey(fault)) ?? now) >= graceMs,
    });
    const orphans = new Set(result.orphaned.map(({ fault }) => faultKey(fault)));
    for (const key of firstSeen.keys()) if (!orphans.has(key)) firstSeen.delete(key);
    for (const { fault, outcome } of result.orphaned) {
      const key = faultKey(fault);
      if (!firstSeen.has(key)) {
        firstSeen.set(key, now);
        log(
          `sweep: orphaned, reverted after ${graceMs / 1000}s unless its run comes back: ${fault.what} (run ${fault.runId})`,
        );
      }
      if (outcome?.ok) {
        firstSeen.delete(key);
        log(`sweep: reverted ${fault.what} (run ${fault.runId}): ${outcome.did}`);
      } else if (outcome) log(`sweep: could not revert ${fault.what} (run ${fault.runId}): ${outcome.error}`);
    }
    for (const { source, error } of result.unreadable) log(`sweep: could not look at ${source}: ${error}`);
  };
  const timer = setInterval(() => {
    // One sweep at a time: a slow one (AWS waiting for instances to start) is not overlapped.
    running = running.then(once).catch((error: Error) => log(`sweep failed: ${error.message}`));
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
