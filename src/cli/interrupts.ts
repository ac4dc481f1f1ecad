/**
 * SIGINT (Ctrl-C in a terminal) and SIGTERM (`timeout`, systemd, `docker stop`) while a command
 * has a run to roll back: counted and handed to whoever follows the run, never the default death.
 * Until someone follows, a second one quits at once: nothing has been started yet.
 *
 * Only Ctrl-C escalates. A SIGTERM after the first interrupt is the same request again, not a
 * person insisting: `timeout` and systemd send it to the command and to its process group, so one
 * expiry can arrive twice, and their next step is SIGKILL, not another SIGTERM.
 */
export type InterruptSignal = 'SIGINT' | 'SIGTERM';

export interface Interrupts {
  /** How many have arrived so far. */
  readonly count: number;
  /** From now on each interrupt calls `handler` (with its number, 1 for the first), an earlier one at once. */
  follow(handler: (count: number, signal: InterruptSignal) => void): void;
  dispose(): void;
}

export function catchInterrupts(beforeFollowing: (signal: InterruptSignal) => void): Interrupts {
  let count = 0;
  let handler: ((count: number, signal: InterruptSignal) => void) | null = null;
  let early: InterruptSignal | null = null;
  const on = (signal: InterruptSignal) => {
    if (signal === 'SIGTERM' && count > 0) return;
    count++;
    if (handler) handler(count, signal);
    else if (count === 1) {
      early = signal;
      beforeFollowing(signal);
    } else process.exit(130);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    get count() {
      return count;
    },
    follow(next) {
      handler = next;
      // One that came while the run was being started is for the run.
      if (early) next(count, early);
    },
    dispose() {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

/** How the person or the program that interrupted is named in the abort's reason. */
export function interruptReason(signal: InterruptSignal): string {
  return signal === 'SIGINT'
    ? 'interrupted from the terminal (Ctrl-C)'
    : 'stopped by SIGTERM (timeout, systemd, docker stop or kill)';
}
