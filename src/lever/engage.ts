/** Engaging the lever: start the namespace's lever workflow, or join the one already running. */
import type { Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { LEVER_WORKFLOW } from '../../workflows/lever';
import { stopRunsAndSchedules } from './fleet';
import { type FleetStopped, LEVER_WORKFLOW_ID, type Lever, readLever } from './state';

/**
 * Starts the lever workflow, then stops the fleet from here at once: the workflow does it again,
 * durably, but an emergency stop should not wait for a worker to pick up a new workflow.
 */
export async function engageLever(
  client: Client,
  lever: Lever,
  taskQueue: string,
): Promise<{ lever: Lever; stopped: FleetStopped }> {
  await client.workflow.start(LEVER_WORKFLOW, {
    workflowId: LEVER_WORKFLOW_ID,
    taskQueue,
    args: [lever],
    memo: { lever },
    // Two engages at once: the second joins the first, whose who, when and why stand.
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
  });
  // Joined an engage that won the race: its who, when and why are the ones to tell.
  const engaged = (await readLever(client)) ?? lever;
  return { lever: engaged, stopped: await stopRunsAndSchedules(client, engaged) };
}
