/**
 * What the lever workflow does to the fleet, and the check runs and scheduled firings make before
 * they start. Each uses the worker's own Temporal client.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/common';
import { abortSignal } from '../../workflows/messages';
import { SCHEDULED_WORKFLOW } from '../../workflows/scheduled-run';
import { type FleetStopped, type Lever, leverText, pauseNote, readLever } from './state';

const RUNNING_RUNS = `WorkflowType = 'gamedayRun' AND ExecutionStatus = 'Running'`;

/** Every running run asked to abort (each rolls back as usual), every gameday schedule paused. */
export async function stopFleet(lever: Lever): Promise<FleetStopped> {
  const { client } = Context.current();
  const abort = { by: lever.by, reason: leverText(lever) };
  const signals: Promise<string | null>[] = [];
  for await (const run of client.workflow.list({ query: RUNNING_RUNS })) {
    signals.push(
      client.workflow
        .getHandle(run.workflowId, run.runId)
        .signal(abortSignal, abort)
        .then(
          () => run.workflowId,
          (error) => {
            // Ended between the list and the signal: nothing left to abort.
            if (error instanceof WorkflowNotFoundError) return null;
            throw error;
          },
        ),
    );
  }
  const abortedRuns = (await Promise.all(signals)).filter((id): id is string => id !== null);
  const pausedSchedules: string[] = [];
  for await (const schedule of client.schedule.list()) {
    if (schedule.action?.type !== 'startWorkflow' || schedule.action.workflowType !== SCHEDULED_WORKFLOW)
      continue;
    if (schedule.state.paused) continue;
    await client.schedule.getHandle(schedule.scheduleId).pause(pauseNote(lever));
    pausedSchedules.push(schedule.scheduleId);
  }
  return { abortedRuns: abortedRuns.sort(), pausedSchedules };
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
