/**
 * What engaging the lever does to the fleet: every running run is asked to abort (each rolls back
 * as usual, the lever's who, when and why in its journal) and every gameday schedule is paused
 * with the lever's note. Done twice, by the CLI at once and by the lever workflow durably, it is
 * the same: a run keeps the first abort it heard, and a schedule paused with the note stays so.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { abortSignal } from '../../workflows/messages';
import { SCHEDULED_WORKFLOW } from '../../workflows/scheduled-run';
import { type FleetStopped, type Lever, leverText, pauseNote } from './state';

const RUNNING_RUNS = `WorkflowType = 'gamedayRun' AND ExecutionStatus = 'Running'`;

/** Every running run asked to abort (each rolls back as usual), every gameday schedule paused. */
export async function stopRunsAndSchedules(client: Client, lever: Lever): Promise<FleetStopped> {
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
    // Paused with the lever's note already: by the CLI, or by an earlier attempt of this activity.
    if (schedule.state.paused && schedule.state.note !== pauseNote(lever)) continue;
    if (!schedule.state.paused) await client.schedule.getHandle(schedule.scheduleId).pause(pauseNote(lever));
    pausedSchedules.push(schedule.scheduleId);
  }
  return { abortedRuns: abortedRuns.sort(), pausedSchedules };
}
