/**
 * The gameday worker: the workflows (bundled once per process) and every activity, on one task
 * queue. Used by `gameday worker`, by `gameday run --local` in process, and by the tests.
 */
import { join } from 'node:path';
import {
  bundleWorkflowCode,
  DefaultLogger,
  type NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { activities } from '../../activities';
import { BEAT_EVERY_MS } from '../../activities/liveness';
import { CliError, EXIT } from '../cli/exit-codes';
import { leverActivities } from '../lever/activities';
import { PROJECT_ROOT } from '../tools';

export const WORKFLOWS_PATH = join(PROJECT_ROOT, 'workflows/index.ts');

let runtimeInstalled = false;

/** Temporal's runtime logs at INFO by default; a CLI wants warnings only, on stderr. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    // gameday handles Ctrl-C and SIGTERM itself: a run must roll back before its worker stops.
    shutdownSignals: [],
    // The native core's own warnings (failed workflow tasks, say) go through the logger below too.
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
      process.stderr.write(`temporal ${level.toLowerCase()}: ${message}${describeMeta(meta)}\n`);
    }),
  });
}

/** The SDK logs whole task tokens and stacks; one line with what failed and why is enough here. */
function describeMeta(meta: Record<string, unknown> | undefined): string {
  if (!meta) return '';
  const what = [
    meta.activityType ?? meta.workflowType,
    meta.workflowId,
    meta.attempt ? `attempt ${meta.attempt}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const error = meta.error as { message?: string } | undefined;
  const why = error?.message ? `: ${error.message.split('\n')[0]?.slice(0, 300)}` : '';
  return what || why ? ` (${what})${why}` : '';
}

const silentLogger = new DefaultLogger('ERROR');

export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: silentLogger });
}

export interface GamedayWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A bundle made earlier (tests share one); bundled now when absent. */
  workflowBundle?: { code: string } | { codePath: string };
  identity?: string;
}

/**
 * What an operator tunes for a big batch (docs/scaling.md), from the worker's environment.
 *
 * Activity slots: every run holds one for its whole phase (the watch), and a run whose faults are
 * in must get one at once, or its faults go unwatched while it waits. The SDK's 100 would cap a
 * worker at fewer than 100 runs in a phase; CPU runs out long before 1,000 (bench/scale.ts), so
 * the cap is the machine, not a queue in front of the watch. Lower it to spread a batch over
 * several workers: a worker with no free slot stops polling and the others take the runs.
 */
export interface WorkerTuning {
  activitySlots: number;
  workflowSlots?: number;
  cachedWorkflows?: number;
}

export const DEFAULT_ACTIVITY_SLOTS = 1_000;

export function workerTuning(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  const read = (name: string, min: number): number | undefined => {
    const text = env[name];
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min)
      throw new CliError(`${name}=${text}: expected a whole number of at least ${min}`, EXIT.invalidInput);
    return value;
  };
  const workflowSlots = read('GAMEDAY_WORKER_WORKFLOW_SLOTS', 2);
  const cachedWorkflows = read('GAMEDAY_WORKER_CACHED_WORKFLOWS', 2);
  return {
    activitySlots: read('GAMEDAY_WORKER_ACTIVITY_SLOTS', 1) ?? DEFAULT_ACTIVITY_SLOTS,
    ...(workflowSlots === undefined ? {} : { workflowSlots }),
    ...(cachedWorkflows === undefined ? {} : { cachedWorkflows }),
  };
}

export async function createGamedayWorker(options: GamedayWorkerOptions): Promise<Worker> {
  const tuning = workerTuning();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    activities: { ...activities, ...leverActivities },
    ...(options.identity ? { identity: options.identity } : {}),
    // After a worker dies, its cached workflows move to a live worker after this long (sooner when
    // a retried activity resets them: activities/liveness.ts). A live worker that misses it only
    // replays the history on its next task.
    stickyQueueScheduleToStartTimeout: '1s',
    // The SDK sends at most one heartbeat per 80% of the heartbeat timeout (2.4s of 3s) unless told
    // otherwise: everything a watch sampled since the last one sent dies with its worker.
    maxHeartbeatThrottleInterval: BEAT_EVERY_MS,
    shutdownGraceTime: '5s',
    maxConcurrentActivityTaskExecutions: tuning.activitySlots,
    ...(tuning.workflowSlots ? { maxConcurrentWorkflowTaskExecutions: tuning.workflowSlots } : {}),
    ...(tuning.cachedWorkflows ? { maxCachedWorkflows: tuning.cachedWorkflows } : {}),
    // Runs that start together inject together: pollers that scale with the burst hand out its
    // tasks at once instead of ten at a time.
    activityTaskPollerBehavior: { type: 'autoscaling' },
    workflowTaskPollerBehavior: { type: 'autoscaling' },
  });
}
