/**
 * `gameday schedule`: game days on a Temporal Schedule. The experiment is read, validated and
 * planned when the schedule is created, and its resolved content (with the file's path and sha256,
 * and the planner's environment overrides) is stored in the schedule's action, so editing the file
 * later changes nothing until `gameday schedule update`. Each firing starts `scheduledGameday`,
 * which plans that content for a run id made from the fire time and runs the ordinary run workflow.
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import {
  type CalendarSpecDescription,
  type Client,
  isGrpcServiceError,
  type Range,
  ScheduleAlreadyRunning,
  type ScheduleDescription,
  type ScheduleHandle,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleSpec,
  ServiceError,
  WorkflowFailedError,
} from '@temporalio/client';
import type { Command } from 'commander';
import pc from 'picocolors';
import type { RunResult } from '../../workflows/messages';
import { SCHEDULED_WORKFLOW, type ScheduledRunInput, scheduledRunId } from '../../workflows/scheduled-run';
import { formatDuration, parseDuration } from '../experiment/duration';
import { type LoadedExperiment, loadExperiment, sha256 } from '../experiment/load';
import { planRun } from '../experiment/plan';
import {
  connectClient,
  type TemporalTarget,
  TemporalUnavailable,
  temporalTarget,
} from '../temporal/connection';
import { CliError, EXIT } from './exit-codes';
import { taskQueue, warnWithoutWorker } from './task-queue';

const NO_WORKER = 'scheduled runs wait until `gameday worker` runs';

/** The run id `<scheduleId>-YYYYMMDD-HHMMSS` must stay within the 100 characters a run id may have. */
const SCHEDULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/**
 * How late a missed firing (Temporal down at the time) may still start. Temporal's default is a
 * year; a game day hours after its slot, with nobody watching, is not what anyone scheduled.
 */
const CATCHUP_WINDOW = '5m';

const OVERLAP = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
} as const;
type OverlapName = keyof typeof OVERLAP;

const FILE_CHANGED = 'file changed since the schedule was created';

interface CreateOptions {
  cron?: string;
  at?: string;
  every?: string;
  jitter?: string;
  timezone?: string;
  id?: string;
  out: string;
  allowProduction?: boolean;
  overlap: string;
}

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

function storedInput(
  loaded: LoadedExperiment,
  options: { outRoot: string; allowProduction: boolean; reports?: ScheduledRunInput['reports'] },
): ScheduledRunInput {
  return {
    experiment: loaded.experiment,
    file: resolve(loaded.file),
    sha256: loaded.sha256,
    outRoot: options.outRoot,
    env: plannerOverrides(process.env),
    allowProduction: options.allowProduction,
    ...(options.reports ? { reports: options.reports } : {}),
    storedAt: new Date().toISOString(),
    storedBy: who(),
  };
}

/**
 * The environment `gameday run` plans with (the file's Toxiproxy URL, AWS region and endpoints
 * overridden, as with the AWS CLI), as it is now: a scheduled run plans on a worker, later.
 */
export function plannerOverrides(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .filter(
        (entry): entry is [string, string] =>
          (entry[0] === 'TOXIPROXY_URL' ||
            entry[0] === 'AWS_REGION' ||
            entry[0].startsWith('AWS_ENDPOINT_URL')) &&
          typeof entry[1] === 'string' &&
          entry[1] !== '',
      )
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** Plans the content as a firing would (the next run id, the stored overrides): refusals exit 64 here. */
function checkPlans(scheduleId: string, input: ScheduledRunInput): void {
  const runId = scheduledRunId(`${scheduleId}-${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`);
  planRun(input.experiment, {
    runId,
    file: input.file,
    sha256: input.sha256,
    outDir: resolve(input.outRoot, runId),
    reports: input.reports,
    allowProduction: input.allowProduction,
    env: input.env,
  });
}

interface When {
  spec: ScheduleSpec;
  once: boolean;
}

function scheduleSpec(options: CreateOptions): When {
  const given = (['cron', 'at', 'every'] as const).filter((key) => options[key] !== undefined);
  if (given.length !== 1) {
    throw new CliError('give exactly one of --cron, --at and --every', EXIT.invalidInput);
  }
  if (options.timezone !== undefined && options.cron === undefined) {
    throw new CliError(
      '--timezone applies to --cron only (--at carries its own offset; --every is a fixed interval)',
      EXIT.invalidInput,
    );
  }
  const spec: ScheduleSpec = {};
  if (options.jitter !== undefined) spec.jitter = duration('--jitter', options.jitter);
  if (options.cron !== undefined) {
    if (options.timezone !== undefined) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: options.timezone });
      } catch {
        throw new CliError(
          `--timezone ${options.timezone} is not an IANA time zone (like Europe/Paris or UTC)`,
          EXIT.invalidInput,
        );
      }
      spec.timezone = options.timezone;
    }
    return { spec: { ...spec, cronExpressions: [options.cron] }, once: false };
  }
  if (options.every !== undefined) {
    const every = duration('--every', options.every);
    if (every < 1_000 || every % 1_000 !== 0) {
      throw new CliError(
        `--every ${options.every}: Temporal schedules in whole seconds, at least 1s`,
        EXIT.invalidInput,
      );
    }
    return { spec: { ...spec, intervals: [{ every }] }, once: false };
  }
  const at = parseAt(options.at ?? '');
  return {
    spec: {
      ...spec,
      calendars: [
        {
          year: at.getUTCFullYear(),
          month: MONTH_NAMES[at.getUTCMonth()],
          dayOfMonth: at.getUTCDate(),
          hour: at.getUTCHours(),
          minute: at.getUTCMinutes(),
          second: at.getUTCSeconds(),
          comment: `once, at ${at.toISOString()}`,
        },
      ],
    },
    once: true,
  };
}

const MONTH_NAMES = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
] as const;
const DAY_NAMES = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;

const AT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})$/;

function parseAt(text: string): Date {
  const at = new Date(text);
  if (!AT_PATTERN.test(text) || Number.isNaN(at.getTime())) {
    throw new CliError(
      `--at ${text}: give a time with Z or an offset, like 2026-12-03T14:00Z or 2026-12-03T15:00+01:00`,
      EXIT.invalidInput,
    );
  }
  if (at.getTime() <= Date.now()) {
    throw new CliError(`--at ${text} is in the past; nothing was scheduled`, EXIT.invalidInput);
  }
  return at;
}

function duration(option: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new CliError(`${option}: ${(error as Error).message}`, EXIT.invalidInput);
  }
}

function overlapPolicy(name: string): ScheduleOverlapPolicy {
  if (!(name in OVERLAP)) {
    throw new CliError(
      `--overlap ${name}: choose from ${Object.keys(OVERLAP).join(', ')}`,
      EXIT.invalidInput,
    );
  }
  return OVERLAP[name as OverlapName];
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
// reading schedules

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

async function listViews(client: Client): Promise<ScheduleView[]> {
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

async function scheduleView(
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

function viewText(view: ScheduleView, { full = false } = {}): string {
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

/** When a schedule fires, in words, from what Temporal holds (it compiles cron into calendars). */
export function specWords(description: Pick<ScheduleDescription, 'spec'>): string {
  const { spec } = description;
  const zone = spec.timezone || 'UTC';
  const parts = [
    ...(spec.calendars ?? []).map((calendar) => calendarWords(calendar, zone)),
    ...(spec.intervals ?? []).map(
      (interval) =>
        `every ${formatDuration(interval.every)}${interval.offset ? ` (offset ${formatDuration(interval.offset)})` : ''}`,
    ),
  ];
  const jitter = spec.jitter ? `, up to ${formatDuration(spec.jitter)} later at random` : '';
  return `${parts.join(' and ') || 'never'}${jitter}`;
}

function calendarWords(calendar: CalendarSpecDescription, zone: string): string {
  const single = (ranges: Range<number>[]) =>
    ranges.length === 1 && ranges[0] && ranges[0].end <= ranges[0].start ? ranges[0].start : null;
  const month = calendar.month.map((r) => ({ ...r, start: monthNumber(r.start), end: monthNumber(r.end) }));
  const week = calendar.dayOfWeek.map((r) => ({
    ...r,
    start: DAY_NAMES.indexOf(r.start),
    end: DAY_NAMES.indexOf(r.end),
  }));
  const [second, minute, hour] = [single(calendar.second), single(calendar.minute), single(calendar.hour)];
  const clock =
    second !== null && minute !== null && hour !== null
      ? `${pad(hour)}:${pad(minute)}${second ? `:${pad(second)}` : ''} ${zone}`
      : null;
  const anyDay = field(calendar.dayOfMonth, 1, 31) === '*';
  const anyMonth = field(month, 1, 12) === '*';
  const anyWeekday = field(week, 0, 6) === '*';
  const [year, monthOnly, day] = [single(calendar.year), single(month), single(calendar.dayOfMonth)];
  if (clock && year !== null && monthOnly !== null && day !== null && anyWeekday) {
    return `once, on ${year}-${pad(monthOnly)}-${pad(day)} at ${clock}`;
  }
  if (clock && anyDay && anyMonth && calendar.year.length === 0) {
    if (anyWeekday) return `every day at ${clock}`;
    return `every ${week.map((r) => dayRange(r)).join(', ')} at ${clock}`;
  }
  const cron = [
    field(calendar.minute, 0, 59),
    field(calendar.hour, 0, 23),
    field(calendar.dayOfMonth, 1, 31),
    field(month, 1, 12),
    field(week, 0, 6),
  ];
  const full = second === 0 && calendar.year.length === 0;
  const fields = full
    ? cron
    : [field(calendar.second, 0, 59), ...cron, calendar.year.length ? field(calendar.year, 0, 9999) : '*'];
  return `cron "${fields.join(' ')}" ${zone}`;
}

function field(ranges: Range<number>[], min: number, max: number): string {
  if (ranges.length === 0) return '*';
  if (ranges.length === 1 && ranges[0]?.start === min && ranges[0].end >= max && ranges[0].step <= 1)
    return '*';
  return ranges
    .map(({ start, end, step }) => `${start}${end > start ? `-${end}` : ''}${step > 1 ? `/${step}` : ''}`)
    .join(',');
}

function dayRange({ start, end, step }: Range<number>): string {
  const name = (day: number) => (DAY_NAMES[day] ?? String(day)).toLowerCase();
  return `${name(start)}${end > start ? `-${name(end)}` : ''}${step > 1 ? `/${step}` : ''}`;
}

function monthNumber(month: string): number {
  return MONTH_NAMES.indexOf(month as (typeof MONTH_NAMES)[number]) + 1;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

function timeText(time: Date): string {
  const iso = time.toISOString().replace(/\.\d+Z$/, 'Z');
  const ms = time.getTime() - Date.now();
  return ms > 0 ? `${iso} (in ${formatDuration(Math.max(1_000, Math.round(ms / 1_000) * 1_000))})` : iso;
}

function runningRuns(description: ScheduleDescription): string[] {
  return description.info.runningActions.map((action) => scheduledRunId(action.workflow.workflowId));
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

function storedArgs(description: ScheduleDescription): ScheduledRunInput {
  const input = description.action.args?.[0] as ScheduledRunInput | undefined;
  if (!input?.experiment || typeof input.file !== 'string') {
    throw new CliError(
      `schedule ${description.scheduleId} holds no experiment gameday can read`,
      EXIT.invalidInput,
    );
  }
  return { ...input, env: input.env ?? {} };
}

function who(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
