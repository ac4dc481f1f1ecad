/**
 * How long the suite waits for something before it gives up and says what it waited for. Tests
 * wait on conditions (a toxic on the server, a run's verdict, a process's exit), never on a budget
 * tuned to an idle machine: on two busy cores a CLI can take seconds to start and a lab a minute.
 * This is only the outer bound, so a hung test still ends and names what never happened.
 * GAMEDAY_TEST_PATIENCE (a duration: 10m, 90s) changes it.
 */
import { parseDuration } from '../src/experiment/duration';

export const PATIENCE_MS = parseDuration(process.env.GAMEDAY_TEST_PATIENCE ?? '5m');

/** Resolves as `promise` does, or rejects after PATIENCE_MS saying what it was waiting for. */
export async function patiently<T>(promise: Promise<T>, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const givingUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const said = typeof what === 'function' ? what() : what;
      reject(new Error(`gave up after ${PATIENCE_MS / 1_000}s waiting for ${said}`));
    }, PATIENCE_MS);
  });
  try {
    return await Promise.race([promise, givingUp]);
  } finally {
    clearTimeout(timer);
  }
}
