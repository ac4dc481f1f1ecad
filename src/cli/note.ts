/** `gameday note <runId> "text"`: a timestamped observer note in the run's journal and reports. */
import { userInfo } from 'node:os';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import { noteUpdate } from '../../workflows/messages';
import { connectClient, temporalTarget } from '../temporal/connection';
import { readRun } from '../temporal/run-status';
import { CliError, EXIT } from './exit-codes';

export function registerNote(program: Command): void {
  program
    .command('note <runId> <text>')
    .description('add a timestamped observer note to a running run; it appears in the journal and reports')
    .option('--by <name>', 'who writes it (default: the OS user)')
    .action(async (runId: string, text: string, options: { by?: string }) => {
      const client = await connectClient(temporalTarget());
      const view = await readRun(client, runId);
      if (view.state !== 'running')
        throw new CliError(
          `run ${runId} has already ended (${view.closedAs}); notes go in while it runs`,
          EXIT.invalidInput,
        );
      try {
        const note = await client.workflow
          .getHandle(runId)
          .executeUpdate(noteUpdate, { args: [{ by: options.by ?? userInfo().username, text }] });
        console.log(`noted at ${new Date(note.at).toISOString()} by ${note.by}`);
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError)
          throw new CliError(
            `run ${runId} refused the note: ${error.cause?.message ?? error.message}`,
            EXIT.invalidInput,
          );
        throw error;
      }
    });
}
