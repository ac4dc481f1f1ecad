/**
 * The safety lever: one long-lived workflow per namespace, running while the lever is engaged.
 * Starting it aborts every running run and pauses every gameday schedule; runs and scheduled
 * firings check it before they start (src/lever/state.ts reads it); the `release` signal ends it,
 * after it has unpaused the schedules it paused.
 */
import { condition, defineQuery, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { leverActivities } from '../src/lever/activities';
import type { FleetStopped, Lever } from '../src/lever/state';

export const LEVER_WORKFLOW = 'safetyLever';

export interface LeverView {
  lever: Lever;
  /** Null until the worker has aborted the runs and paused the schedules. */
  stopped: FleetStopped | null;
  releasedBy: string | null;
  resumedSchedules: string[] | null;
}

export const leverQuery = defineQuery<LeverView>('lever');
export const releaseLeverSignal = defineSignal<[{ by: string }]>('release');

const acts = proxyActivities<typeof leverActivities>({
  startToCloseTimeout: '1m',
  // An incident is when the Temporal frontend is most likely to be slow: keep trying.
  retry: { initialInterval: '200ms', maximumInterval: '5s' },
});

export async function safetyLever(lever: Lever): Promise<LeverView> {
  const view: LeverView = { lever, stopped: null, releasedBy: null, resumedSchedules: null };
  setHandler(leverQuery, () => view);
  setHandler(releaseLeverSignal, (request) => {
    const by = (request ?? {}) as Partial<{ by: string }>;
    view.releasedBy = typeof by.by === 'string' && by.by ? by.by : 'unknown';
  });
  view.stopped = await acts.stopFleet(lever);
  await condition(() => view.releasedBy !== null);
  view.resumedSchedules = await acts.resumeSchedules({
    lever,
    ids: view.stopped.pausedSchedules,
    by: view.releasedBy ?? 'unknown',
  });
  return view;
}

/** For a run or a scheduled firing about to start: the lever, if it is engaged. */
export function leverEngaged(): Promise<Lever | null> {
  return acts.leverEngaged();
}
