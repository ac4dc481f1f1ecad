/**
 * `gameday run <file>`: validate, plan, start the durable run and follow it to its verdict.
 * Ctrl-C asks the run to abort and waits for the rollback; a second Ctrl-C stops waiting.
 */
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import logUpdate from 'log-update';
import pc from 'picocolors';
import { abortSignal, type RunResult } from '../../workflows/messages';
import { loadExperiment } from '../experiment/load';
import { planRun, type RunPlan } from '../experiment/plan';
import { parseReportFormats, REPORT_FORMATS, type ReportFormat, writeReports } from '../report/write';
import { connectClient, connectWorker, temporalTarget } from '../temporal/connection';
import { localTemporal } from '../temporal/embedded';
import { readRun } from '../temporal/run-status';
import { type RunHandle, startRun } from '../temporal/start-run';
import { createGamedayWorker, installQuietRuntime } from '../temporal/worker';
import { CliError, EXIT, exitCodeFor } from './exit-codes';
import { faultLine, phaseLine, statusBlock, verdictText } from './format';
import { taskQueue, warnWithoutWorker } from './task-queue';

const NO_WORKER = 'the run waits until `gameday worker` starts (or use --local)';

interface RunOptions {
  local?: boolean;
  out: string;
  id?: string;
  allowProduction?: boolean;
  report: string;
}

export function registerRun(program: Command): void {
  program
    .command('run <file>')
    .description(
      'run an experiment to its verdict (exit 0 passed, 1 deviated, 2 aborted, 3 rollback-failed, 4 not-started)',
    )
    .option(
      '--local',
      'start an embedded Temporal dev server (unless TEMPORAL_ADDRESS is set) and an in-process worker',
    )
    .option('--out <dir>', 'where runs write <runId>/journal.json and reports', 'gameday-runs')
    .option('--id <runId>', 'the run id (default: <experiment>-<time>-<random>)')
    .option('--allow-production', 'allow an experiment whose target.environment is production')
    .option(
      '--report <formats>',
      `reports written beside the journal: ${REPORT_FORMATS.join(',')}`,
      REPORT_FORMATS.join(','),
    )
    .action(async (file: string, options: RunOptions) => {
      process.exitCode = await runExperiment(file, options);
    });
}

export function newRunId(experiment: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${experiment}-${stamp}-${randomBytes(2).toString('hex')}`;
}

async function runExperiment(file: string, options: RunOptions): Promise<number> {
  let reports: ReportFormat[];
  try {
    reports = parseReportFormats(options.report);
  } catch (error) {
    throw new CliError((error as Error).message, EXIT.invalidInput);
  }
  const loaded = await loadExperiment(file);
  const runId = options.id ?? newRunId(loaded.experiment.name);
  const plan = planRun(loaded.experiment, {
    runId,
    file: resolve(file),
    sha256: loaded.sha256,
    outDir: join(resolve(options.out), runId),
    reports,
    allowProduction: options.allowProduction,
  });

  installQuietRuntime();
  const local = options.local ? await localTemporal() : null;
  if (local?.note) console.log(pc.dim(local.note));
  const target = local?.target ?? temporalTarget();
  const worker = options.local
    ? await createGamedayWorker({
        connection: await connectWorker(target),
        namespace: target.namespace,
        taskQueue: taskQueue(),
      })
    : null;
  const workerDone = worker?.run();
  try {
    const client = await connectClient(target);
    if (!worker) await warnWithoutWorker(client, NO_WORKER);
    const handle = await startRun(client, plan, taskQueue());
    console.log(
      `run ${pc.bold(runId)} started: ${plan.phases.length} phase(s), journal in ${relative('.', plan.outDir) || '.'}`,
    );
    const result = await follow(client, handle, { inProcessWorker: worker !== null });
    return await report(client, plan, result);
  } finally {
    if (worker) {
      worker.shutdown();
      await workerDone;
    }
    await local?.server?.stop();
  }
}

/**
 * Shows progress until the run ends. In a terminal the status block is redrawn in place; elsewhere
 * (CI logs) a line is printed whenever something changes.
 */
async function follow(
  client: Client,
  handle: RunHandle,
  { inProcessWorker }: { inProcessWorker: boolean },
): Promise<RunResult | 'detached'> {
  const tty = process.stdout.isTTY === true;
  const printed = new Set<string>();
  let interrupts = 0;
  let detach: (() => void) | undefined;
  const detached = new Promise<'detached'>((resolve) => {
    detach = () => resolve('detached');
  });

  const say = (line: string) => {
    if (tty) logUpdate.clear();
    console.log(line);
  };

  const onInterrupt = () => {
    interrupts++;
    if (interrupts === 1) {
      const by = userInfo().username;
      void handle
        .signal(abortSignal, { reason: 'interrupted from the terminal (Ctrl-C)', by })
        .catch(() => undefined);
      say(pc.yellow('aborting: every fault is being rolled back. Ctrl-C again to stop waiting.'));
    } else if (inProcessWorker && interrupts === 2) {
      say(
        pc.red(
          'the rollback runs in this process (--local). Ctrl-C once more quits anyway; whatever is still injected is reverted ' +
            `when a worker next runs (gameday worker), and \`gameday status ${handle.workflowId}\` shows it.`,
        ),
      );
    } else {
      say(
        pc.yellow(
          `detached; the worker finishes the rollback. Follow it with: gameday status ${handle.workflowId}`,
        ),
      );
      detach?.();
    }
  };
  process.on('SIGINT', onInterrupt);

  let polling = false;
  const poll = setInterval(async () => {
    // With no worker a query waits; never let polls pile up behind it.
    if (polling) return;
    polling = true;
    try {
      const view = await readRun(client, handle.workflowId);
      if (view.state !== 'running') return;
      if (tty) {
        logUpdate(statusBlock(view));
        return;
      }
      for (const line of [
        phaseLine(view.status).replace(/, [^,]* left$/, ''),
        ...view.status.faults.map(faultLine),
      ]) {
        if (!printed.has(line)) console.log(line);
        printed.add(line);
      }
    } catch {
      // The run may be between workflow tasks; the next poll will see it.
    } finally {
      polling = false;
    }
  }, 500);

  try {
    return await Promise.race([handle.result() as Promise<RunResult>, detached]);
  } finally {
    clearInterval(poll);
    process.off('SIGINT', onInterrupt);
    if (tty) logUpdate.done();
  }
}

async function report(client: Client, plan: RunPlan, result: RunResult | 'detached'): Promise<number> {
  if (result === 'detached') return EXIT.interrupted;
  if (result.outcome === 'locked') {
    const holder = await lockHolder(client, result.lockWorkflowId);
    const key = result.lockWorkflowId.replace(/^gameday-lock-/, '');
    const what = key === plan.experiment.name ? plan.experiment.name : `its target ${key}`;
    console.error(
      `${what} is locked by run ${holder ?? '(unknown)'}, which is still in progress; ` +
        `nothing was started. See: gameday status ${holder ?? '<runId>'}`,
    );
    return EXIT.locked;
  }
  let reports = result.reports ?? {};
  if (!result.journalPath) {
    // The worker could not write them (another machine, a full disk): write them from the result.
    reports = (await writeReports(plan.outDir, result.journal, plan.reports ?? REPORT_FORMATS)).reports;
  }
  console.log(`${verdictText(result.verdict)} ${result.reason}`);
  for (const item of result.journal.remaining)
    console.log(pc.bold(pc.red(`STILL INJECTED: ${item.what}: ${item.detail}`)));
  const recovered = result.journal.recovery.recoveredAfterMs;
  if (recovered !== null) console.log(`recovered ${recovered}ms after rollback`);
  const labels: Record<ReportFormat, string> = {
    json: 'journal:',
    html: 'report:',
    md: 'summary:',
    junit: 'junit:',
  };
  for (const format of ['json', 'html', 'md', 'junit'] as const) {
    const path = reports[format];
    if (path) console.log(`${labels[format].padEnd(9)}${path}`);
  }
  return exitCodeFor(result.verdict, result.refused);
}

async function lockHolder(client: Client, lockWorkflow: string): Promise<string | null> {
  try {
    const description = await client.workflow.getHandle(lockWorkflow).describe();
    return (description.memo?.holder as string | undefined) ?? null;
  } catch {
    return null;
  }
}
