/**
 * `gameday lever engage|release|status`: the safety lever for every run in the namespace. Engage
 * starts the lever workflow (workflows/lever.ts), which aborts the running runs and pauses the
 * schedules; until release, `run`, `approve` and scheduled firings are refused with exit 75.
 */
import { userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { type LeverView, releaseLeverSignal } from '../../workflows/lever';
import { engageLever } from '../lever/engage';
import { LEVER_WORKFLOW_ID, type Lever, leverText, readLever } from '../lever/state';
import { connectClient, temporalTarget } from '../temporal/connection';
import { CliError, EXIT } from './exit-codes';
import { taskQueue } from './task-queue';

/** How long release waits for a worker to unpause the schedules and end the lever. */
const WORKER_WAIT_MS = 30_000;

export function registerLever(program: Command): void {
  const lever = program
    .command('lever')
    .description('the safety lever: abort every run, pause every schedule, refuse new runs until released');
  lever
    .command('engage')
    .description('abort every running run, pause every schedule, and refuse new runs (exit 75) until release')
    .requiredOption('--reason <text>', 'why, for every journal and every refusal')
    .option('--by <name>', 'who engages it (default: the OS user)')
    .action(async (options: { reason: string; by?: string }) => {
      if (!options.reason.trim()) throw new CliError('--reason must say why', EXIT.invalidInput);
      const client = await connectClient(temporalTarget());
      const already = await readLever(client);
      if (already) {
        console.log(`${leverText(already)}; engaging it again changes nothing`);
        return;
      }
      const engaged: Lever = {
        by: options.by ?? userInfo().username,
        at: Date.now(),
        reason: options.reason,
      };
      const { lever, stopped } = await engageLever(client, engaged, taskQueue());
      console.log(leverText(lever));
      const { abortedRuns, pausedSchedules } = stopped;
      console.log(
        `aborting ${abortedRuns.length} run(s)${abortedRuns.length ? `: ${abortedRuns.join(', ')}` : ''}; each rolls back as usual`,
      );
      console.log(
        `paused ${pausedSchedules.length} schedule(s)${pausedSchedules.length ? `: ${pausedSchedules.join(', ')}` : ''}`,
      );
    });
  lever
    .command('release')
    .description('let runs start again, and unpause the schedules the lever paused')
    .option('--by <name>', 'who releases it (default: the OS user)')
    .action(async (options: { by?: string }) => {
      const client = await connectClient(temporalTarget());
      if (!(await readLever(client))) {
        console.log('the safety lever is not engaged');
        return;
      }
      const handle = client.workflow.getHandle(LEVER_WORKFLOW_ID);
      await handle.signal(releaseLeverSignal, { by: options.by ?? userInfo().username });
      const released = await Promise.race([
        handle.result() as Promise<LeverView>,
        sleep(WORKER_WAIT_MS).then(() => null),
      ]);
      if (!released)
        throw new CliError(
          `release sent, but no worker on task queue ${taskQueue()} has acted on it yet: runs stay refused until one does`,
          EXIT.unavailable,
        );
      const resumed = released.resumedSchedules ?? [];
      console.log(
        `the safety lever is released by ${released.releasedBy}; runs may start again; unpaused ${resumed.length} schedule(s)${resumed.length ? `: ${resumed.join(', ')}` : ''}`,
      );
    });
  lever
    .command('status')
    .description('whether the safety lever is engaged, by whom, since when and why')
    .option('--json', 'print it as JSON')
    .action(async (options: { json?: boolean }) => {
      const lever = await readLever(await connectClient(temporalTarget()));
      if (options.json) console.log(JSON.stringify({ engaged: lever !== null, ...(lever ?? {}) }, null, 2));
      else console.log(lever ? leverText(lever) : 'the safety lever is not engaged');
    });
}

/** For `run` and `approve`: refuse with exit 75 while the lever is engaged. */
export async function refuseWhileEngaged(client: Client, what: string): Promise<void> {
  const lever = await readLever(client);
  if (lever)
    throw new CliError(
      `${what} refused: ${leverText(lever)}; \`gameday lever release\` lifts it`,
      EXIT.leverEngaged,
    );
}
