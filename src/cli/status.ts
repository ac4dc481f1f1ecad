/** `gameday status <runId>`: where a run is, what is injected, what the guardrails see. */
import type { Command } from 'commander';
import { connectClient, temporalTarget } from '../temporal/connection';
import { type RunView, readRun } from '../temporal/run-status';
import { statusBlock } from './format';

export function registerStatus(program: Command): void {
  program
    .command('status <runId>')
    .description('show a run: stage, phase, time left, faults, latest probe figures')
    .option('--json', 'print the status as JSON')
    .action(async (runId: string, options: { json?: boolean }) => {
      const client = await connectClient(temporalTarget());
      const view = await readRun(client, runId);
      if (options.json) {
        console.log(JSON.stringify(withoutJournal(view), null, 2));
      } else {
        console.log(statusBlock(view));
      }
    });
}

/** The journal is large and is on disk already; status is about where the run is. */
function withoutJournal(view: RunView): unknown {
  if (view.state !== 'closed' || view.result?.outcome !== 'finished') return view;
  const { journal: _journal, ...result } = view.result;
  return { ...view, result };
}
