import type { Client } from '@temporalio/client';
import pc from 'picocolors';
import { TASK_QUEUE } from '../../workflows/messages';

/** The task queue runs and workers meet on; GAMEDAY_TASK_QUEUE keeps separate fleets (or tests) apart. */
export function taskQueue(): string {
  return process.env.GAMEDAY_TASK_QUEUE || TASK_QUEUE;
}

/** Work sent to a queue no worker polls just waits: say so, with what to do, instead of sitting silent. */
export async function warnWithoutWorker(client: Client, consequence: string): Promise<void> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue() },
    taskQueueType: 1, // workflow tasks
  });
  if (!pollers?.length)
    console.log(pc.yellow(`no worker is polling task queue ${taskQueue()}: ${consequence}`));
}
