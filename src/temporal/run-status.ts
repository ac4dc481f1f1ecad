/**
 * Reads a run from the outside: its `status` query while it runs, the live probe figures from the
 * phase watch's latest heartbeat (no workflow event per sample, so this is where they live), or
 * its result once it has finished.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { WatchProgress } from '../../activities/watch';
import type { RunResult, RunStatus } from '../../workflows/messages';
import type { FaultObservation, ProbeSummary } from '../report/journal';

export type RunView =
  | {
      state: 'running';
      status: RunStatus;
      live: ProbeSummary[];
      observations: FaultObservation[];
      pending: PendingActivity[];
    }
  | { state: 'closed'; closedAs: string; result: RunResult | null };

export interface PendingActivity {
  activity: string;
  attempt: number;
  lastFailure: string | null;
}

/**
 * The name of the run's `status` query (`statusQuery` in workflows/messages.ts). Asked by name:
 * the definition comes from @temporalio/workflow, which `gameday status` would otherwise load
 * for one string (test/unit/run-status.test.ts keeps the two equal).
 */
export const STATUS_QUERY = 'status';

export class RunNotFound extends Error {
  override name = 'RunNotFound';
}

export async function readRun(client: Client, runId: string): Promise<RunView> {
  const handle = client.workflow.getHandle(runId);
  let description: Awaited<ReturnType<typeof handle.describe>>;
  try {
    description = await handle.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new RunNotFound(`no run with id ${runId} in namespace ${client.options.namespace}`);
    }
    throw error;
  }
  if (description.status.name !== 'RUNNING') {
    const result = description.status.name === 'COMPLETED' ? ((await handle.result()) as RunResult) : null;
    return { state: 'closed', closedAs: description.status.name.toLowerCase(), result };
  }

  const pendingActivities = description.raw.pendingActivities ?? [];
  const watches: WatchProgress[] = [];
  for (const activity of pendingActivities) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (activity.activityType?.name !== 'watchPhase' || !payload) continue;
    watches.push(defaultPayloadConverter.fromPayload<WatchProgress>(payload));
  }
  // The summaries' module brings the probe registry and zod with it (~70 ms of a start): loaded
  // only when a watch has guardrail samples to summarize, and while the status query is out.
  const hasSamples = watches.some((progress) => Object.keys(progress.guardrails).length > 0);
  const [status, summaries] = await Promise.all([
    handle.query<RunStatus>(STATUS_QUERY),
    hasSamples ? import('../../activities/probes/series') : null,
  ]);
  const live: ProbeSummary[] = watches.flatMap((progress) =>
    Object.entries(progress.guardrails).flatMap(([name, samples]) =>
      summaries ? [summaries.liveSummary(`guardrail ${name}`, samples)] : [],
    ),
  );
  const observations: FaultObservation[] = watches.flatMap((progress) => progress.observations ?? []);
  const pending = pendingActivities.map((activity) => ({
    activity: activity.activityType?.name ?? 'unknown',
    attempt: activity.attempt ?? 1,
    lastFailure: activity.lastFailure?.message ?? null,
  }));
  return { state: 'running', status, live, observations, pending };
}
