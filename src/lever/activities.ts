/**
 * What the lever workflow does to the fleet, and the check runs and scheduled firings make before
 * they start. Each uses the worker's own Temporal client.
 */
import { Context } from '@temporalio/activity';
import { stopRunsAndSchedules } from './fleet';
import { type FleetStopped, type Lever, pauseNote, readLever } from './state';

/** Every running run asked to abort, every gameday schedule paused (src/lever/fleet.ts). */
export async function stopFleet(lever: Lever): Promise<FleetStopped> {
  return stopRunsAndSchedules(Context.current().client, lever);
}

/**
 * Unpauses the schedules the lever paused, unless someone has paused one again since (its note
 * is no longer the lever's): that pause is theirs. Returns the ones unpaused.
 */
export async function resumeSchedules(request: {
  lever: Lever;
  ids: string[];
  by: string;
}): Promise<string[]> {
  const { client } = Context.current();
  const resumed: string[] = [];
  for (const id of request.ids) {
    const handle = client.schedule.getHandle(id);
    const description = await handle.describe().catch(() => null);
    if (!description?.state.paused || description.state.note !== pauseNote(request.lever)) continue;
    await handle.unpause(`safety lever released by ${request.by}`);
    resumed.push(id);
  }
  return resumed;
}

/** The lever, if engaged: what a run or a scheduled firing checks before it starts. */
export async function leverEngaged(): Promise<Lever | null> {
  return readLever(Context.current().client);
}

export const leverActivities = { stopFleet, resumeSchedules, leverEngaged };
