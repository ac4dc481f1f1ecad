/**
 * `gameday run <file>`: validate, plan, start the durable run and follow it to its verdict.
 * Ctrl-C or SIGTERM asks the run to abort and waits for the rollback; a second Ctrl-C stops waiting
 * (with --local, where this process is the worker, a third). If Temporal goes away meanwhile it
 * says what may still be injected and how to finish the rollback (exit 5).
 */
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { type Client, ServiceError, WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure, TerminatedFailure } from '@temporalio/common';
import { Runtime, type Worker } from '@temporalio/worker';
import type { Command } from 'commander';
import logUpdate from 'log-update';
import pc from 'picocolors';
import { abortSignal, type RunResult, type RunStatus } from '../../workflows/messages';
import { loadExperiment } from '../experiment/load';
import { planRun, type RunPlan } from '../experiment/plan';
import { checkProbes, throwRefusals } from '../experiment/probe-checks';
import { parseReportFormats, REPORT_FORMATS, type ReportFormat, writeReports } from '../report/write';
import {
  connectClient,
  connectWorker,
  DEFAULT_ADDRESS,
  type TemporalTarget,
  temporalTarget,
} from '../temporal/connection';
import { type LocalTemporal, localHome, localTemporal, usesEmbedded } from '../temporal/embedded';
import { readRun } from '../temporal/run-status';
import { type RunHandle, startRun } from '../temporal/start-run';
import { createGamedayWorker, installQuietRuntime } from '../temporal/worker';
import { CliError, EXIT, exitCodeFor } from './exit-codes';
import { faultLine, phaseLine, statusBlock, verdictText } from './format';
import { catchInterrupts, type InterruptSignal, type Interrupts, interruptReason } from './interrupts';
import { refuseWhileEngaged } from './lever';
import { checkWritableDirectory, fsReason } from './output';
import { lostRunText, shellWord } from './run-lost';
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
  // A query its server does not parse is refused now; a server that does not answer is the steady state's to find.
  throwRefusals(await checkProbes(loaded, plan));

  // A bad --out (or GAMEDAY_HOME) is refused before anything runs, not found when the run is over.
  await checkWritableDirectory(plan.outDir);
  if (options.local && usesEmbedded()) await checkWritableDirectory(localHome());

  installQuietRuntime();
  // From here on Ctrl-C and SIGTERM are ours: before the run starts they stop the start, after
  // it they abort the run and wait for the rollback.
  const interrupts = catchInterrupts((signal) =>
    console.log(pc.yellow(`${signalName(signal)}: stopping before the run starts. Again to quit at once.`)),
  );
  let local: LocalTemporal | null = null;
  let worker: Worker | null = null;
  let workerDone: Promise<void> | undefined;
  let lost = false;
  try {
    local = options.local ? await localTemporal() : null;
    if (local?.note) console.log(pc.dim(local.note));
    const target = local?.target ?? temporalTarget();
    worker = options.local
      ? await createGamedayWorker({
          connection: await connectWorker(target),
          namespace: target.namespace,
          taskQueue: taskQueue(),
        })
      : null;
    workerDone = worker?.run();
    const client = await connectClient(target);
    if (!worker) await warnWithoutWorker(client, NO_WORKER);
    if (interrupts.count > 0) {
      console.log('interrupted before the run started: nothing ran');
      return EXIT.interrupted;
    }
    await refuseWhileEngaged(client, `run ${runId}`);
    const handle = await startRun(client, plan, taskQueue());
    console.log(
      `run ${pc.bold(runId)} started: ${plan.phases.length} phase(s), journal in ${relative('.', plan.outDir) || '.'}`,
    );
    const finish = finishCommand(local, target, worker !== null);
    const result = await follow(client, handle, {
      interrupts,
      address: target.address,
      finish,
      inProcessWorker: worker !== null,
      lost: [
        ...(local?.server ? [local.server.lost] : []),
        ...(workerDone
          ? [
              workerDone.then(
                () => 'its in-process worker stopped',
                (error: Error) => `its in-process worker failed: ${firstLine(error)}`,
              ),
            ]
          : []),
      ],
    });
    if (typeof result === 'object' && 'lost' in result) {
      lost = true;
      const text = lostRunText({
        plan,
        last: result.last,
        why: result.lost,
        finish,
        gameday: gamedayAt(local, target),
        ended: result.ended,
      });
      throw new CliError(text, result.ended ? EXIT.rollbackFailed : EXIT.lost);
    }
    // The run is over: what the worker still says while it stops must come before the outcome.
    await stopWorker(worker, workerDone, lost);
    return await report(client, plan, result);
  } finally {
    await stopWorker(worker, workerDone, lost);
    await local?.server?.release();
    interrupts.dispose();
  }
}

async function stopWorker(worker: Worker | null, workerDone: Promise<void> | undefined, lost: boolean) {
  if (!worker) return;
  if (worker.getState() === 'RUNNING') worker.shutdown();
  // A worker whose server is gone only retries its polls: there is nothing to wait for.
  if (!lost) await Promise.race([workerDone?.catch(() => undefined), sleep(10_000)]);
  // The native core forwards its log lines in batches; the last ones are printed now, not later.
  Runtime.instance().flushLogs();
}

/** What a person runs so that a run this process leaves behind finishes its rollback. */
function finishCommand(
  local: LocalTemporal | null,
  target: TemporalTarget,
  inProcessWorker: boolean,
): string {
  const queue = process.env.GAMEDAY_TASK_QUEUE ? [`GAMEDAY_TASK_QUEUE=${shellWord(taskQueue())}`] : [];
  if (local?.embedded) {
    const home = local.server?.home ?? resolve(process.env.GAMEDAY_HOME ?? '.gameday');
    const port = process.env.GAMEDAY_LOCAL_PORT
      ? [`GAMEDAY_LOCAL_PORT=${process.env.GAMEDAY_LOCAL_PORT}`]
      : [];
    return `${[`GAMEDAY_HOME=${shellWord(home)}`, ...port, ...queue, 'gameday worker --local'].join(' ')} (it starts the server again on ${join(home, 'temporal.db')}, and the run resumes where it was)`;
  }
  if (inProcessWorker)
    return `once Temporal at ${target.address} answers again, ${[...queue, 'gameday worker'].join(' ')} with the same TEMPORAL_* settings (this process was the run's worker), and the run resumes where it was`;
  return `once Temporal at ${target.address} answers again, the run resumes where it was on the workers of task queue ${taskQueue()} (\`gameday worker\`)`;
}

/** `gameday`, with the address that reaches this run's Temporal when the default would not. */
function gamedayAt(local: LocalTemporal | null, target: TemporalTarget): string {
  const address = local?.embedded && target.address !== DEFAULT_ADDRESS;
  return `${address ? `TEMPORAL_ADDRESS=${target.address} ` : ''}gameday`;
}

const signalName = (signal: InterruptSignal) => (signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM');

type Followed =
  | RunResult
  | 'detached'
  | { lost: string; ended: boolean; last: { status: RunStatus; at: number } | null };

/**
 * Shows progress until the run ends. In a terminal the status block is redrawn in place; elsewhere
 * (CI logs) a line is printed whenever something changes.
 */
async function follow(
  client: Client,
  handle: RunHandle,
  options: {
    interrupts: Interrupts;
    address: string;
    finish: string;
    inProcessWorker: boolean;
    lost: Promise<string>[];
  },
): Promise<Followed> {
  const tty = process.stdout.isTTY === true;
  const printed = new Set<string>();
  let last: { status: RunStatus; at: number } | null = null;
  let detach: (() => void) | undefined;
  const detached = new Promise<'detached'>((resolve) => {
    detach = () => resolve('detached');
  });

  const say = (line: string) => {
    if (tty) logUpdate.clear();
    console.log(line);
  };

  options.interrupts.follow((count, signal) => {
    if (count === 1) {
      const by = userInfo().username;
      void handle.signal(abortSignal, { reason: interruptReason(signal), by }).catch(() => undefined);
      say(
        pc.yellow(
          signal === 'SIGINT'
            ? 'aborting: every fault is being rolled back. Ctrl-C again to stop waiting.'
            : 'SIGTERM: aborting; every fault is being rolled back before this process ends.',
        ),
      );
    } else if (options.inProcessWorker && count === 2) {
      say(
        pc.red(
          `the rollback runs in this process (--local). ${signalName(signal)} once more quits anyway; whatever is still ` +
            `injected is reverted only when a worker runs: ${options.finish}.`,
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
  });

  let polling = false;
  const poll = setInterval(async () => {
    // With no worker a query waits; never let polls pile up behind it.
    if (polling) return;
    polling = true;
    try {
      const view = await readRun(client, handle.workflowId);
      if (view.state !== 'running') return;
      last = { status: view.status, at: Date.now() };
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

  const lostWith = (why: string, ended = false) => ({ lost: why, ended, last });
  try {
    return await Promise.race([
      (handle.result() as Promise<RunResult>).catch((error: unknown) => {
        if (error instanceof WorkflowFailedError)
          return lostWith(`ended outside gameday (${endedHow(error)}) and its rollback did not run`, true);
        if (error instanceof ServiceError)
          return lostWith(`Temporal at ${options.address} stopped answering (${firstLine(error)})`);
        throw error;
      }),
      detached,
      ...options.lost.map((lost) => lost.then((why) => lostWith(why))),
    ]);
  } finally {
    clearInterval(poll);
    if (tty) logUpdate.done();
  }
}

function endedHow(error: WorkflowFailedError): string {
  if (error.cause instanceof TerminatedFailure) return 'terminated';
  if (error.cause instanceof CancelledFailure) return 'cancelled';
  return firstLine(error.cause ?? error);
}

function firstLine(error: Error): string {
  const cause = (error.cause as Error | undefined)?.message;
  return (cause ?? error.message).split('\n')[0] ?? error.name;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
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
  console.log(`${verdictText(result.verdict)} ${result.reason}`);
  for (const item of result.journal.remaining)
    console.log(pc.bold(pc.red(`STILL INJECTED: ${item.what}: ${item.detail}`)));
  let reports = result.reports ?? {};
  let unwritten: string | null = null;
  if (!result.journalPath) {
    // The worker could not write them (another machine, a full disk): write them from the result.
    try {
      reports = (await writeReports(plan.outDir, result.journal, plan.reports ?? REPORT_FORMATS)).reports;
    } catch (error) {
      unwritten = fsReason(error, plan.outDir);
    }
  }
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
  const code = exitCodeFor(result.verdict, result.refused);
  if (unwritten === null) return code;
  console.error(
    `gameday: cannot write ${plan.outDir}: ${unwritten}. Neither the worker nor this process could write the ` +
      `journal; the result stays in Temporal (\`gameday status ${plan.runId}\` shows the verdict).`,
  );
  // Something still injected matters more than a missing report.
  return code === EXIT.rollbackFailed ? code : EXIT.cannotCreate;
}

async function lockHolder(client: Client, lockWorkflow: string): Promise<string | null> {
  try {
    const description = await client.workflow.getHandle(lockWorkflow).describe();
    return (description.memo?.holder as string | undefined) ?? null;
  } catch {
    return null;
  }
}
