/**
 * `gameday worker`: a long-running worker. It also finishes runs whose previous worker died: with
 * `--local` it first brings back the embedded dev server from .gameday/, which is how a run left
 * behind by a crashed `gameday run --local` is rolled back.
 */
import type { Command } from 'commander';
import pc from 'picocolors';
import { connectWorker, temporalTarget } from '../temporal/connection';
import { localTemporal } from '../temporal/embedded';
import { createGamedayWorker, installQuietRuntime } from '../temporal/worker';
import { taskQueue } from './task-queue';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(`run a worker on task queue ${taskQueue()} until SIGINT or SIGTERM`)
    .option('--local', 'use (or start) the embedded Temporal dev server of `gameday run --local`')
    .action(async (options: { local?: boolean }) => {
      installQuietRuntime();
      const local = options.local ? await localTemporal() : null;
      if (local?.note) console.log(pc.dim(local.note));
      const target = local?.target ?? temporalTarget();
      try {
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
      } finally {
        await local?.server?.stop();
      }
    });
}
