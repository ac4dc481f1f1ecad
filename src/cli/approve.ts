/** `gameday approve <runId>`: open the gate a run waits at, and say whether it was accepted. */
import { userInfo } from 'node:os';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import { type ApprovalAnswer, approveUpdate } from '../../workflows/messages';
import { connectClient, temporalTarget } from '../temporal/connection';
import { readRun } from '../temporal/run-status';
import { CliError, EXIT } from './exit-codes';
import { refuseWhileEngaged } from './lever';

export function registerApprove(program: Command): void {
  program
    .command('approve <runId>')
    .description("approve the gate a run waits at: it injects that phase's faults next")
    .option('--phase <name>', 'approve only if the run waits at this phase (guards against a stale approval)')
    .option('--by <name>', 'who approves, for the journal (default: the OS user)')
    .action(async (runId: string, options: { phase?: string; by?: string }) => {
      const client = await connectClient(temporalTarget());
      await refuseWhileEngaged(client, `approving ${runId}`);
      const view = await readRun(client, runId);
      if (view.state !== 'running')
        throw new CliError(`run ${runId} has already ended (${view.closedAs})`, EXIT.invalidInput);
      let answer: ApprovalAnswer;
      try {
        answer = await client.workflow.getHandle(runId).executeUpdate(approveUpdate, {
          args: [{ by: options.by ?? userInfo().username, phase: options.phase }],
        });
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError)
          throw new CliError(
            `run ${runId} refused the approval: ${error.cause?.message ?? error.message}`,
            EXIT.invalidInput,
          );
        throw error;
      }
      if (!answer.accepted) throw new CliError(`not approved: ${answer.message}`, EXIT.invalidInput);
      console.log(`approved: ${answer.message}`);
    });
}
