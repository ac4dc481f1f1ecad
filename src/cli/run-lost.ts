/**
 * Temporal went away in the middle of a run: the CLI cannot know how the run ends. It says what
 * the last status it read showed as possibly still injected, and exactly how to finish the
 * rollback (exit 5). Or the run was ended outside gameday (terminated), and nothing will roll it
 * back: the same list, for a person to remove by hand (exit 3).
 */
import pc from 'picocolors';
import type { RunStatus } from '../../workflows/messages';
import type { RunPlan } from '../experiment/plan';
import { describeHandle } from '../report/fault-text';

export interface LostRun {
  plan: RunPlan;
  /** The last status read from the run, and when; null when none was read. */
  last: { status: RunStatus; at: number } | null;
  why: string;
  /** What finishes the rollback. */
  finish: string;
  /** How to reach the run with `gameday status` or `abort` once Temporal is back ("TEMPORAL_ADDRESS=... gameday"). */
  gameday: string;
  /** The run has ended (terminated, say): nothing will resume it. */
  ended: boolean;
}

export function lostRunText({ plan, last, why, finish, gameday, ended }: LostRun): string {
  const lines = [
    ended
      ? `run ${plan.runId} ${why}.`
      : `lost Temporal during run ${plan.runId}: ${why}. This process cannot see how the run ends.`,
  ];
  const loud = (line: string) => lines.push(pc.bold(pc.red(line)));
  if (!last) {
    lines.push('no status of the run was read before that, so any of its faults may be injected:');
    for (const fault of plan.phases.flatMap((phase) => phase.faults))
      loud(`MAY STILL BE INJECTED: fault ${fault.name}: ${describeHandle(fault)}`);
  } else {
    const { status, at } = last;
    const where = status.phase
      ? `, phase ${status.phase.index + 1}/${status.phase.count} ${status.phase.name}`
      : '';
    const pending = status.faults.filter((fault) => fault.status !== 'reverted');
    lines.push(
      `its last status, read at ${new Date(at).toISOString().slice(11, 19)}: ${status.stage}${where}`,
    );
    if (pending.length === 0) lines.push('no fault was injected then.');
    for (const fault of pending)
      loud(
        `MAY STILL BE INJECTED: fault ${fault.handle.name} (${fault.status}): ${describeHandle(fault.handle)}`,
      );
  }
  if (ended) {
    lines.push('nothing will roll it back now: remove by hand what is listed above.');
    return lines.join('\n');
  }
  lines.push(`to finish the rollback: ${finish}`);
  lines.push(
    last?.status.abort
      ? 'it was already aborting, so it rolls back as soon as it resumes.'
      : `it then goes on with its phases; to roll back at once instead: ${gameday} abort ${plan.runId} --reason "..."`,
  );
  lines.push(`see how it ended: ${gameday} status ${plan.runId}`);
  return lines.join('\n');
}

/** A word for the shell: quoted unless it is plainly safe. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
