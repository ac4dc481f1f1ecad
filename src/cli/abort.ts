/** `gameday abort <runId>`: ask a run to stop; it rolls back every fault before it ends. */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { abortSignal } from '../../workflows/messages';
import { connectClient, temporalTarget } from '../temporal/connection';
import { readRun } from '../temporal/run-status';
import { CliError, EXIT } from './exit-codes';

export function registerAbort(program: Command): void {
  program
    .command('abort <runId>')
    .description('abort a run: it reverts every fault, then ends with verdict aborted')
    .requiredOption('--reason <text>', 'why, for the journal')
    .option('--by <name>', 'who, for the journal (default: the OS user)')
    .action(async (runId: string, options: { reason: string; by?: string }) => {
      const client = await connectClient(temporalTarget());
      const view = await readRun(client, runId);
      if (view.state !== 'running')
        throw new CliError(`run ${runId} has already ended (${view.closedAs})`, EXIT.invalidInput);
      await client.workflow
        .getHandle(runId)
        .signal(abortSignal, { reason: options.reason, by: options.by ?? userInfo().username });
      console.log(`abort sent to ${runId}; it is rolling back. Follow it with: gameday status ${runId}`);
    });
}
