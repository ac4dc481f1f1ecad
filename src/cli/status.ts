/** `gameday status <runId>`: where a run is, what is injected, what the guardrails see. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import pc from 'picocolors';
import { leverText, readLever } from '../lever/state';
import { connectClient, temporalTarget } from '../temporal/connection';
import { RunNotFound, type RunView, readRun } from '../temporal/run-status';
import { statusBlock } from './format';

export function registerStatus(program: Command): void {
  program
    .command('status [runId]')
    .description(
      'show a run: stage, phase, time left, faults, what it waits for, latest probe figures; and the safety lever',
    )
    .option('--json', 'print the status as JSON')
    .option('--watch', 'redraw every second until the run ends (Ctrl-C stops watching, not the run)')
    .action(async (runId: string | undefined, options: { json?: boolean; watch?: boolean }) => {
      const client = await connectClient(temporalTarget());
      // Asked side by side: status is run dozens of times a day, and each is a round trip.
      const [lever, view] = await Promise.all([
        readLever(client),
        runId && !options.watch ? readRun(client, runId) : undefined,
      ]);
      if (!runId) {
        if (options.json) console.log(JSON.stringify({ lever }, null, 2));
        else console.log(lever ? leverText(lever) : 'the safety lever is not engaged');
        return;
      }
      if (lever && !options.json) console.log(pc.bold(pc.red(leverText(lever))));
      if (!view) return watch(client, runId);
      if (options.json) {
        console.log(JSON.stringify({ ...(withoutJournal(view) as object), lever }, null, 2));
      } else {
        console.log(statusBlock(view));
      }
    });
}

const REDRAW_EVERY_MS = 1_000;

/** Redraws in place on a terminal; elsewhere (a pipe, CI) prints each change once. */
async function watch(client: Client, runId: string): Promise<void> {
  // Loaded here, not at the top: log-update and its terminal-width tables are only for --watch,
  // and a plain `status` is run dozens of times a day.
  const { default: logUpdate } = await import('log-update');
  const tty = process.stdout.isTTY;
  let previous = '';
  for (;;) {
    let view: RunView;
    try {
      view = await readRun(client, runId);
    } catch (error) {
      if (error instanceof RunNotFound) throw error;
      // No worker answers the status query while one restarts: keep watching.
      const text = `${previous}\n(no answer from the run: ${(error as Error).message}; retrying)`;
      if (tty) logUpdate(text);
      await sleep(REDRAW_EVERY_MS);
      continue;
    }
    const text = statusBlock(view);
    if (tty) logUpdate(text);
    else if (text !== previous) console.log(`${text}\n`);
    previous = text;
    if (view.state === 'closed') break;
    await sleep(REDRAW_EVERY_MS);
  }
  if (tty) logUpdate.done();
}

/** The journal is large and is on disk already; status is about where the run is. */
function withoutJournal(view: RunView): unknown {
  if (view.state !== 'closed' || view.result?.outcome !== 'finished') return view;
  const { journal: _journal, ...result } = view.result;
  return { ...view, result };
}
