/** `gameday worker`: a long-running worker; it also finishes runs whose previous worker died. */
import type { Command } from 'commander';
import { connectWorker, temporalTarget } from '../temporal/connection';
import { createGamedayWorker, installQuietRuntime } from '../temporal/worker';
import { taskQueue } from './task-queue';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(`run a worker on task queue ${taskQueue()} until SIGINT or SIGTERM`)
    .action(async () => {
      installQuietRuntime();
      const target = temporalTarget();
      const worker = await createGamedayWorker({
        connection: await connectWorker(target),
        namespace: target.namespace,
        taskQueue: taskQueue(),
      });
      const stop = () => worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      console.log(
        `worker polling task queue ${taskQueue()} at ${target.address} (namespace ${target.namespace})`,
      );
      await worker.run();
      console.log('worker stopped');
    });
}
