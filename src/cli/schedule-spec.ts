/**
 * What a schedule is made of, apart from the commander wiring: when it fires (`--cron`, `--at`,
 * `--every`, `--jitter`, `--overlap` as a Temporal ScheduleSpec) and what it stores (the experiment's
 * content, the file's path and sha256, the planner's environment overrides). Pure but for the clock
 * (`--at` in the past) and the user name it records.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { type ScheduleDescription, ScheduleOverlapPolicy, type ScheduleSpec } from '@temporalio/client';
import type { ScheduledRunInput } from '../../workflows/scheduled-input';
import { scheduledRunId } from '../../workflows/scheduled-run';
import { parseDuration } from '../experiment/duration';
import type { LoadedExperiment } from '../experiment/load';
import { planRun } from '../experiment/plan';
import { CliError, EXIT } from './exit-codes';
import { MONTH_NAMES } from './schedule-words';

/** The run id `<scheduleId>-YYYYMMDD-HHMMSS` must stay within the 100 characters a run id may have. */
export const SCHEDULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/**
 * How late a missed firing (Temporal down at the time) may still start. Temporal's default is a
 * year; a game day hours after its slot, with nobody watching, is not what anyone scheduled.
 */
export const CATCHUP_WINDOW = '5m';

export const OVERLAP = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
} as const;
type OverlapName = keyof typeof OVERLAP;

export interface CreateOptions {
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

export function storedInput(
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
export function checkPlans(scheduleId: string, input: ScheduledRunInput): void {
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

export interface When {
  spec: ScheduleSpec;
  once: boolean;
}

export function scheduleSpec(options: CreateOptions): When {
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

export function overlapPolicy(name: string): ScheduleOverlapPolicy {
  if (!(name in OVERLAP)) {
    throw new CliError(
      `--overlap ${name}: choose from ${Object.keys(OVERLAP).join(', ')}`,
      EXIT.invalidInput,
    );
  }
  return OVERLAP[name as OverlapName];
}

export function storedArgs(description: ScheduleDescription): ScheduledRunInput {
  const input = description.action.args?.[0] as ScheduledRunInput | undefined;
  if (!input?.experiment || typeof input.file !== 'string') {
    throw new CliError(
      `schedule ${description.scheduleId} holds no experiment gameday can read`,
      EXIT.invalidInput,
    );
  }
  return { ...input, env: input.env ?? {} };
}

export function who(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
