/**
 * `gameday schedule`: game days on a Temporal Schedule. The experiment is read, validated and
 * planned when the schedule is created, and its resolved content (with the file's path and sha256,
 * and the planner's environment overrides) is stored in the schedule's action, so editing the file
 * later changes nothing until `gameday schedule update`. Each firing starts `scheduledGameday`,
 * which plans that content for a run id made from the fire time and runs the ordinary run workflow.
 */
import { resolve } from 'node:path';
import {
  type Client,
  isGrpcServiceError,
  ScheduleAlreadyRunning,
  type ScheduleDescription,
  type ScheduleHandle,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  ServiceError,
} from '@temporalio/client';
import type { Command } from 'commander';
import pc from 'picocolors';
import { WORKFLOW_TASK_TIMEOUT } from '../../workflows/messages';
import { SCHEDULED_WORKFLOW, scheduledRunId } from '../../workflows/scheduled-run';
import { loadExperiment } from '../experiment/load';
import {
  connectClient,
  type TemporalTarget,
  TemporalUnavailable,
  temporalTarget,
} from '../temporal/connection';
import { CliError, EXIT } from './exit-codes';
import {
  CATCHUP_WINDOW,
  type CreateOptions,
  checkPlans,
  OVERLAP,
  overlapPolicy,
  SCHEDULE_ID_PATTERN,
  scheduleSpec,
  storedArgs,
  storedInput,
  who,
} from './schedule-spec';
import { listViews, runningRuns, scheduleView, viewText } from './schedule-view';
import { timeText } from './schedule-words';
import { taskQueue, warnWithoutWorker } from './task-queue';

const NO_WORKER = 'scheduled runs wait until `gameday worker` runs';

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description(
      'game days on a Temporal Schedule: create, list, describe, pause, unpause, trigger, update, delete',
    );

  schedule
    .command('create <file>')
    .description(
      'validate an experiment and schedule it; its content is stored now, so later edits of the file need `schedule update`',
    )
    .option('--cron <expr>', 'a cron expression, e.g. "0 3 * * *" (in --timezone, default UTC)')
    .option('--at <time>', 'once, at this time: ISO 8601 with Z or an offset, e.g. 2026-12-03T14:00Z')
    .option('--every <duration>', 'at a fixed interval, e.g. 30s, 15m, 24h (whole seconds)')
    .option('--jitter <duration>', 'start each run up to this much later, at random')
    .option('--timezone <tz>', 'IANA time zone of --cron, e.g. Europe/Paris')
    .option('--id <name>', 'the schedule id (default: the experiment name); run ids start with it')
    .option('--out <dir>', 'where runs write <runId>/journal.json and reports', 'gameday-runs')
    .option('--allow-production', 'allow an experiment whose target.environment is production')
    .option(
      '--overlap <policy>',
      `when a run is still going at the next time: ${Object.keys(OVERLAP).join(', ')}`,
      'skip',
    )
    .action(async (file: string, options: CreateOptions) => {
      await createSchedule(file, options);
    });

  schedule
    .command('list')
    .description('every gameday schedule: when, next runs, paused or not, the last run, and a changed file')
    .action(async () => {
      const client = await connect();
      await guard(async () => {
        const views = await listViews(client);
        if (views.length === 0) {
          console.log(
            'no gameday schedules (create one with `gameday schedule create <file> --cron "0 3 * * *"`)',
          );
          return;
        }
        console.log(views.map((view) => viewText(view)).join('\n\n'));
      });
    });

  schedule
    .command('describe <id>')
    .description('one schedule in full: spec, policy, stored content, environment overrides, recent runs')
    .option('--json', 'print it as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const client = await connect();
      await guard(async () => {
        const view = await scheduleView(client, await gamedaySchedule(client, id));
        console.log(options.json ? JSON.stringify(view, null, 2) : viewText(view, { full: true }));
      });
    });

  schedule
    .command('pause <id>')
    .description('stop taking runs at their times (trigger still starts one); a run in progress goes on')
    .option('--note <text>', 'why, shown by `schedule list`')
    .action(async (id: string, options: { note?: string }) => {
      const client = await connect();
      await guard(async () => {
        const description = await gamedaySchedule(client, id);
        await client.schedule.getHandle(id).pause(options.note ?? `paused by ${who()}`);
        console.log(`schedule ${id} paused; \`gameday schedule unpause ${id}\` resumes it`);
        for (const runId of runningRuns(description)) {
          console.log(`run ${runId} is still in progress (\`gameday abort ${runId}\` stops it)`);
        }
      });
    });

  schedule
    .command('unpause <id>')
    .description('take runs at their times again')
    .option('--note <text>', 'why, shown by `schedule list`')
    .action(async (id: string, options: { note?: string }) => {
      const client = await connect();
      await guard(async () => {
        await gamedaySchedule(client, id);
        const handle = client.schedule.getHandle(id);
        await handle.unpause(options.note ?? `unpaused by ${who()}`);
        const next = (await handle.describe()).info.nextActionTimes.slice(0, 2);
        console.log(`schedule ${id} unpaused; next: ${next.map(timeText).join(', ') || 'none'}`);
        await warnWithoutWorker(client, NO_WORKER);
      });
    });

  schedule
    .command('trigger <id>')
    .description('start a run now with the stored content, paused or not')
    .action(async (id: string) => {
      const client = await connect();
      await guard(async () => triggerNow(client, id));
    });

  schedule
    .command('update <id>')
    .description("re-read and re-validate the schedule's file (or --file) and store its content")
    .option('--file <file>', 'read this file instead of the stored path')
    .option('--allow-production', 'allow an experiment whose target.environment is production')
    .action(async (id: string, options: { file?: string; allowProduction?: boolean }) => {
      const client = await connect();
      await guard(async () => updateSchedule(client, id, options));
    });

  schedule
    .command('delete <id>')
    .description('delete a schedule; a run in progress goes on')
    .action(async (id: string) => {
      const client = await connect();
      await guard(async () => {
        const description = await gamedaySchedule(client, id);
        await client.schedule.getHandle(id).delete();
        console.log(`schedule ${id} deleted`);
        for (const runId of runningRuns(description)) {
          console.log(`run ${runId} is still in progress (\`gameday abort ${runId}\` stops it)`);
        }
      });
    });
}

// ---------------------------------------------------------------------------------------------
// create and update

async function createSchedule(file: string, options: CreateOptions): Promise<void> {
  const when = scheduleSpec(options);
  const overlap = overlapPolicy(options.overlap);
  const loaded = await loadExperiment(file);
  const scheduleId = options.id ?? loaded.experiment.name;
  if (!SCHEDULE_ID_PATTERN.test(scheduleId)) {
    throw new CliError(
      `schedule id "${scheduleId}" must be letters, digits, '.', '_' or '-', at most 80, starting with a letter or digit ` +
        '(run ids are made from it)',
      EXIT.invalidInput,
    );
  }
  const input = storedInput(loaded, {
    outRoot: resolve(options.out),
    allowProduction: options.allowProduction === true,
  });
  checkPlans(scheduleId, input);

  const client = await connect();
  await guard(async () => {
    try {
      await client.schedule.create({
        scheduleId,
        spec: when.spec,
        action: {
          type: 'startWorkflow',
          workflowType: SCHEDULED_WORKFLOW,
          // Temporal appends the fire time: `<scheduleId>-2026-12-03T14:00:00Z`.
          workflowId: scheduleId,
          taskQueue: taskQueue(),
          args: [input],
          memo: { schedule: scheduleId, experiment: loaded.experiment.name },
          workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
        },
        policies: { overlap, catchupWindow: CATCHUP_WINDOW, pauseOnFailure: true },
        memo: { gameday: true, experiment: loaded.experiment.name, file: input.file, sha256: input.sha256 },
        state: {
          note: `created by ${input.storedBy}`,
          ...(when.once ? { remainingActions: 1 } : {}),
        },
      });
    } catch (error) {
      if (error instanceof ScheduleAlreadyRunning) {
        throw new CliError(
          `a schedule named ${scheduleId} already exists; choose another --id, or ` +
            `\`gameday schedule update ${scheduleId}\` to store new content in it`,
          EXIT.invalidInput,
        );
      }
      if (error instanceof TypeError) {
        throw new CliError(`Temporal refused the schedule: ${error.message}`, EXIT.invalidInput);
      }
      throw error;
    }
    const view = await scheduleView(client, await client.schedule.getHandle(scheduleId).describe());
    console.log(`schedule ${pc.bold(scheduleId)} created: ${view.spec}, overlap ${options.overlap}`);
    console.log(
      `  runs ${loaded.experiment.name} as read now from ${input.file} (sha256 ${input.sha256.slice(0, 12)}); ` +
        `journals in ${input.outRoot}/<runId>`,
    );
    console.log(`  next: ${view.next.map((time) => timeText(new Date(time))).join(', ') || 'none'}`);
    await warnWithoutWorker(client, NO_WORKER);
  });
}

async function updateSchedule(
  client: Client,
  scheduleId: string,
  options: { file?: string; allowProduction?: boolean },
): Promise<void> {
  const description = await gamedaySchedule(client, scheduleId);
  const previous = storedArgs(description);
  const file = options.file ? resolve(options.file) : previous.file;
  const loaded = await loadExperiment(file);
  const input = storedInput(loaded, {
    outRoot: previous.outRoot,
    allowProduction: options.allowProduction === true || previous.allowProduction,
    reports: previous.reports,
  });
  checkPlans(scheduleId, input);

  await client.schedule.getHandle(scheduleId).update((current) => ({
    ...current,
    action: { ...current.action, args: [input] },
  }));
  const same = input.sha256 === previous.sha256 && input.file === previous.file;
  console.log(
    `schedule ${scheduleId} now runs ${loaded.experiment.name} as read now from ${input.file} ` +
      `(sha256 ${previous.sha256.slice(0, 12)} -> ${input.sha256.slice(0, 12)}${same ? ', unchanged' : ''})`,
  );
  for (const name of new Set([...Object.keys(previous.env), ...Object.keys(input.env)])) {
    if (previous.env[name] !== input.env[name]) {
      console.log(`  ${name}: ${previous.env[name] ?? '(unset)'} -> ${input.env[name] ?? '(unset)'}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// trigger

async function triggerNow(client: Client, scheduleId: string): Promise<void> {
  const before = await gamedaySchedule(client, scheduleId);
  const seen = new Set(before.info.recentActions.map((action) => action.action.workflow.workflowId));
  const handle = client.schedule.getHandle(scheduleId);
  // ALLOW_ALL: a run already in progress does not swallow this one silently; if it holds the
  // experiment's lock, the new run ends `locked` and says so.
  await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  const started = await startedSince(handle, seen);
  if (started) {
    const runId = scheduledRunId(started);
    console.log(`run ${pc.bold(runId)} started now; follow it with \`gameday status ${runId}\``);
  } else {
    console.log(
      `triggered ${scheduleId}; \`gameday schedule list\` shows the run once Temporal has taken it`,
    );
  }
  await warnWithoutWorker(client, NO_WORKER);
}

async function startedSince(handle: ScheduleHandle, seen: Set<string>): Promise<string | null> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const description = await handle.describe();
    const fresh = description.info.recentActions
      .map((action) => action.action.workflow.workflowId)
      .find((id) => !seen.has(id));
    if (fresh) return fresh;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Temporal

let target: TemporalTarget | undefined;

async function connect(): Promise<Client> {
  target = temporalTarget();
  return connectClient(target);
}

/** A lost connection after connecting is still "Temporal unreachable" (exit 69). */
async function guard<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const cause = error instanceof ServiceError ? error.cause : error;
    if (target && isGrpcServiceError(cause) && cause.code === 14)
      throw new TemporalUnavailable(target, cause);
    throw error;
  }
}

/** The schedule, if it exists and is gameday's: gameday leaves other schedules alone. */
async function gamedaySchedule(client: Client, scheduleId: string): Promise<ScheduleDescription> {
  let description: ScheduleDescription;
  try {
    description = await client.schedule.getHandle(scheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) {
      throw new CliError(
        `no schedule named ${scheduleId} in namespace ${client.options.namespace}; \`gameday schedule list\` shows them`,
        EXIT.invalidInput,
      );
    }
    throw error;
  }
  if (description.action.workflowType !== SCHEDULED_WORKFLOW) {
    throw new CliError(
      `schedule ${scheduleId} is not a gameday schedule (it starts ${description.action.workflowType}); gameday leaves it alone`,
      EXIT.invalidInput,
    );
  }
  return description;
}
