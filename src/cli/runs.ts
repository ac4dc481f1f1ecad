/** `gameday runs`: recent and running runs with their stage or verdict, from Temporal visibility. */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { Command } from 'commander';
import pc from 'picocolors';
import { type RunResult, statusQuery } from '../../workflows/messages';
import type { Verdict } from '../report/journal';
import { connectClient, temporalTarget } from '../temporal/connection';
import { CliError, EXIT } from './exit-codes';
import { verdictText } from './format';

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('list recent and running runs, newest first, with their stage or verdict')
    .option('--limit <n>', 'how many', '20')
    .option('--running', 'only runs still in progress')
    .option('--json', 'print them as JSON')
    .action(async (options: { limit: string; running?: boolean; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new CliError(`--limit ${options.limit}: a whole number of runs, at least 1`, EXIT.invalidInput);
      const client = await connectClient(temporalTarget());
      const rows = await listRuns(client, limit, options.running ?? false);
      if (options.json) return console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return console.log(options.running ? 'no run in progress' : 'no runs yet');
      for (const row of rows) {
        const state = row.verdict ? verdictText(row.verdict) : row.stage ? pc.cyan(row.stage) : row.status;
        console.log(`${row.startedAt}  ${row.runId}  ${state}${row.detail ? `  ${row.detail}` : ''}`);
      }
    });
}

interface RunRow {
  runId: string;
  experiment: string | null;
  startedAt: string;
  status: string;
  stage: string | null;
  verdict: Verdict | null;
  detail: string;
}

async function listRuns(client: Client, limit: number, runningOnly: boolean): Promise<RunRow[]> {
  const query = `WorkflowType = 'gamedayRun'${runningOnly ? " AND ExecutionStatus = 'Running'" : ''}`;
  const executions: WorkflowExecutionInfo[] = [];
  for await (const execution of client.workflow.list({ query })) {
    executions.push(execution);
    if (executions.length >= limit) break;
  }
  executions.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  return Promise.all(executions.map((execution) => describeRow(client, execution)));
}

async function describeRow(client: Client, execution: WorkflowExecutionInfo): Promise<RunRow> {
  const row: RunRow = {
    runId: execution.workflowId,
    experiment: null,
    startedAt: execution.startTime.toISOString().replace(/\.\d+Z$/, 'Z'),
    status: execution.status.name.toLowerCase(),
    stage: null,
    verdict: null,
    detail: '',
  };
  const handle = client.workflow.getHandle(execution.workflowId, execution.runId);
  try {
    if (execution.status.name === 'RUNNING') {
      const status = await handle.query(statusQuery);
      row.experiment = status.experiment;
      row.stage = status.stage;
      row.detail = status.waiting
        ? `waiting for approval of ${status.waiting.phase}`
        : status.phase
          ? `phase ${status.phase.index + 1}/${status.phase.count} ${status.phase.name}`
          : '';
    } else if (execution.status.name === 'COMPLETED') {
      const result = (await handle.result()) as RunResult;
      if (result.outcome === 'finished') {
        row.verdict = result.verdict;
        row.experiment = result.journal.experiment.name;
        row.detail = result.reason;
      } else row.detail = `did not start: ${result.lockWorkflowId} was held`;
    }
  } catch (error) {
    // A run whose worker is gone cannot answer its query; say so rather than fail the list.
    row.detail = `(${(error as Error).message})`;
  }
  return row;
}
