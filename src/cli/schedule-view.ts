/**
 * What `schedule list` and `schedule describe` show: a schedule read back from Temporal (its spec in
 * words, next times, state, stored content and whether the file still matches, its recent runs and
 * their verdicts), as data for `--json` and as text.
 */
import { readFile } from 'node:fs/promises';
import {
  type Client,
  type ScheduleDescription,
  ScheduleNotFoundError,
  WorkflowFailedError,
} from '@temporalio/client';
import pc from 'picocolors';
import type { RunResult } from '../../workflows/messages';
import type { ScheduledRunInput } from '../../workflows/scheduled-input';
import { SCHEDULED_WORKFLOW, scheduledRunId } from '../../workflows/scheduled-run';
import { sha256 } from '../experiment/load';
import { storedArgs } from './schedule-spec';
import { specWords, timeText } from './schedule-words';

export const FILE_CHANGED = 'file changed since the schedule was created';

export interface ScheduleView {
  scheduleId: string;
  /** When, in words. */
  spec: string;
  overlap: string;
  paused: boolean;
  note: string | null;
  /** Runs left for a one-off schedule; null when unlimited. */
  remainingActions: number | null;
  next: string[];
  experiment: string;
  file: string;
  sha256: string;
  fileState: 'unchanged' | 'changed' | 'missing';
  outRoot: string;
  env: Record<string, string>;
  storedAt: string;
  storedBy: string;
  taskQueue: string;
  recent: RecentRun[];
}

export interface RecentRun {
  runId: string;
  workflowId: string;
  takenAt: string;
  /** A verdict, `running`, `locked`, or how the workflow ended (`failed: ...`). */
  outcome: string;
}

export async function listViews(client: Client): Promise<ScheduleView[]> {
  const ids: string[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.action?.workflowType === SCHEDULED_WORKFLOW) ids.push(summary.scheduleId);
  }
  const views = await Promise.all(
    ids.sort().map(async (id) => {
      try {
        return await scheduleView(client, await client.schedule.getHandle(id).describe(), { recent: 1 });
      } catch (error) {
        // The list is eventually consistent: a schedule deleted a moment ago may still be in it.
        if (error instanceof ScheduleNotFoundError) return null;
        throw error;
      }
    }),
  );
  return views.filter((view): view is ScheduleView => view !== null);
}

export async function scheduleView(
  client: Client,
  description: ScheduleDescription,
  { recent = 10 }: { recent?: number } = {},
): Promise<ScheduleView> {
  const input = storedArgs(description);
  const actions = description.info.recentActions.slice(-recent).reverse();
  return {
    scheduleId: description.scheduleId,
    spec: specWords(description),
    overlap: (description.policies.overlap ?? 'SKIP').toLowerCase().replaceAll('_', '-'),
    paused: description.state.paused,
    note: description.state.note || null,
    remainingActions: description.state.remainingActions ?? null,
    next: description.info.nextActionTimes.slice(0, 2).map((time) => time.toISOString()),
    experiment: input.experiment.name,
    file: input.file,
    sha256: input.sha256,
    fileState: await fileState(input),
    outRoot: input.outRoot,
    env: input.env,
    storedAt: input.storedAt,
    storedBy: input.storedBy,
    taskQueue: description.action.taskQueue,
    recent: await Promise.all(
      actions.map(async (action) => ({
        runId: scheduledRunId(action.action.workflow.workflowId),
        workflowId: action.action.workflow.workflowId,
        takenAt: action.takenAt.toISOString(),
        outcome: await outcomeOf(
          client,
          action.action.workflow.workflowId,
          action.action.workflow.firstExecutionRunId,
        ),
      })),
    ),
  };
}

async function fileState(input: ScheduledRunInput): Promise<ScheduleView['fileState']> {
  try {
    return sha256(await readFile(input.file, 'utf8')) === input.sha256 ? 'unchanged' : 'changed';
  } catch {
    return 'missing';
  }
}

async function outcomeOf(client: Client, workflowId: string, runId: string): Promise<string> {
  const handle = client.workflow.getHandle(workflowId, runId);
  try {
    const { status } = await handle.describe();
    if (status.name === 'RUNNING') return 'running';
    // A failed firing says why (a rollback-failed run fails it, to pause the schedule).
    if (status.name !== 'COMPLETED' && status.name !== 'FAILED')
      return status.name.toLowerCase().replaceAll('_', ' ');
    const result = (await handle.result()) as RunResult;
    return result.outcome === 'locked' ? `locked (${result.lockWorkflowId} was held)` : result.verdict;
  } catch (error) {
    if (error instanceof WorkflowFailedError) return `failed: ${error.cause?.message ?? error.message}`;
    return `unknown (${(error as Error).message})`;
  }
}

export function viewText(view: ScheduleView, { full = false } = {}): string {
  const state = view.paused
    ? pc.yellow(`paused${view.note ? `: ${view.note}` : ''}`)
    : view.remainingActions === 0
      ? 'done: its one run has been taken'
      : 'active';
  const lines = [`${pc.bold(view.scheduleId)}  ${view.spec}  [${state}]`];
  lines.push(`  experiment ${view.experiment} from ${view.file} (sha256 ${view.sha256.slice(0, 12)})`);
  lines.push(`  next: ${view.next.map((time) => timeText(new Date(time))).join(', ') || 'none'}`);
  const last = view.recent[0];
  lines.push(`  last run: ${last ? `${last.runId} ${last.outcome}` : 'none yet'}`);
  if (view.fileState === 'changed') {
    lines.push(
      pc.bold(
        pc.yellow(
          `  ${FILE_CHANGED}; \`gameday schedule update ${view.scheduleId}\` takes the new content ` +
            '(runs use the content stored before)',
        ),
      ),
    );
  } else if (view.fileState === 'missing') {
    lines.push(
      pc.bold(
        pc.yellow(
          `  file gone since the schedule was created: ${view.file}; runs use the content stored before ` +
            `(\`gameday schedule update ${view.scheduleId} --file FILE\` stores another)`,
        ),
      ),
    );
  }
  if (!full) return lines.join('\n');
  lines.push(`  overlap ${view.overlap}, task queue ${view.taskQueue}, journals in ${view.outRoot}/<runId>`);
  lines.push(`  content stored ${view.storedAt} by ${view.storedBy}`);
  const overrides = Object.entries(view.env);
  lines.push(
    `  environment overrides: ${overrides.map(([name, value]) => `${name}=${value}`).join(' ') || 'none'}`,
  );
  if (view.recent.length) lines.push('  recent runs:');
  for (const run of view.recent) lines.push(`    ${run.takenAt}  ${run.runId}  ${run.outcome}`);
  return lines.join('\n');
}

export function runningRuns(description: ScheduleDescription): string[] {
  return description.info.runningActions.map((action) => scheduledRunId(action.workflow.workflowId));
}
