/**
 * `gameday worker`: a long-running worker. It also finishes runs whose previous worker died: with
 * `--local` it holds the embedded dev server of GAMEDAY_HOME (starting it on its database if no
 * one runs it), which is how a run left behind by a crashed `gameday run --local` is rolled back.
 * It lets go of that server when it stops, and the server stops unless another gameday holds it.
 */
import type { Command } from 'commander';
import pc from 'picocolors';
import { connectWorker, temporalTarget } from '../temporal/connection';
import { localHome, localTemporal, usesEmbedded } from '../temporal/embedded';
import { createGamedayWorker, installQuietRuntime } from '../temporal/worker';
import { CliError, EXIT } from './exit-codes';
import { checkWritableDirectory } from './output';
import { taskQueue } from './task-queue';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(`run a worker on task queue ${taskQueue()} until SIGINT or SIGTERM`)
    .option('--local', 'use (or start) the embedded Temporal dev server of `gameday run --local`')
    .action(async (options: { local?: boolean }) => {
      if (options.local && usesEmbedded()) await checkWritableDirectory(localHome());
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
        const stop = () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        let lost: string | null = null;
        void local?.server?.lost.then((why) => {
          lost = why;
          stop();
        });
        console.log(
          `worker polling task queue ${taskQueue()} at ${target.address} (namespace ${target.namespace})`,
        );
        await worker.run();
        if (lost)
          throw new CliError(
            `${lost}: the worker stopped. Runs in progress wait in ${local?.server?.dbFile} for the next \`gameday worker --local\``,
            EXIT.unavailable,
          );
        console.log('worker stopped');
      } finally {
        await local?.server?.release();
      }
    });
}
