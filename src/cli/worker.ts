/**
 * `gameday worker`: a long-running worker. It also finishes runs whose previous worker died: with
 * `--local` it holds the embedded dev server of GAMEDAY_HOME (starting it on its database if no
 * one runs it), which is how a run left behind by a crashed `gameday run --local` is rolled back.
 * It lets go of that server when it stops, and the server stops unless another gameday holds it.
 */
import type { Command } from 'commander';
import pc from 'picocolors';
import { parseDuration } from '../experiment/duration';
import { SweepRefused, sweepSources } from '../sweep/sources';
import { sweepEvery } from '../sweep/timer';
import { connectClient, connectWorker, temporalTarget } from '../temporal/connection';
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
    .option('--sweep-every <duration>', 'run `gameday sweep --apply` on this timer (e.g. 1m); off by default')
    .option(
      '--sweep-grace <duration>',
      'revert an orphaned fault only after it has been seen this long',
      '1m',
    )
    .option('--sweep-aws', 'the timed sweep also looks at EC2 and FIS (AWS_REGION)')
    .action(async (options: WorkerOptions) => {
      const sweeping = sweepSettings(options);
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
        const sweeper = sweeping
          ? sweepEvery(await connectClient(target), sweeping.sources, { ...sweeping, log: console.log })
          : null;
        console.log(
          `worker polling task queue ${taskQueue()} at ${target.address} (namespace ${target.namespace})${sweeping ? `; sweeping every ${options.sweepEvery}` : ''}`,
        );
        await worker.run().finally(() => sweeper?.stop());
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

interface WorkerOptions {
  local?: boolean;
  sweepEvery?: string;
  sweepGrace: string;
  sweepAws?: boolean;
}

/** The timed sweep's settings, checked before anything starts; null when it is off. */
function sweepSettings(options: WorkerOptions) {
  if (!options.sweepEvery) return null;
  const duration = (flag: string, text: string) => {
    try {
      return parseDuration(text);
    } catch (error) {
      throw new CliError(`${flag} ${text}: ${(error as Error).message}`, EXIT.invalidInput);
    }
  };
  const everyMs = duration('--sweep-every', options.sweepEvery);
  if (everyMs < 1_000)
    throw new CliError(`--sweep-every ${options.sweepEvery}: at least 1s`, EXIT.invalidInput);
  const graceMs = duration('--sweep-grace', options.sweepGrace);
  try {
    return { everyMs, graceMs, sources: sweepSources({ aws: options.sweepAws }) };
  } catch (error) {
    if (error instanceof SweepRefused) throw new CliError(error.message, EXIT.invalidInput);
    throw error;
  }
}
