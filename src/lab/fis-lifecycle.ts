/**
 * How an FIS experiment moves through its life, as FIS runs it, for the lab: moto keeps the
 * experiments (their templates, targets, tags, and whether someone stopped them) but runs no
 * action and keeps no clock of its own worth following, so the lab's AWS front (aws-front.ts)
 * reads the experiment's actions and works out, as FIS does, which are running now:
 *
 *   - an action starts when the experiment starts, or once every action in its `startAfter` has
 *     completed; it lasts its `duration` parameter (`startInstancesAfterDuration` for
 *     aws:ec2:stop-instances), and one without either completes at once;
 *   - the experiment completes when every action has; it is stopped when someone stopped it.
 *
 * Pure: the experiment as moto's GetExperiment returns it, and the time.
 */

export interface FisExperimentView {
  id?: string;
  state?: { status?: string; reason?: string };
  /** Epoch seconds, as FIS's JSON carries timestamps. */
  startTime?: number;
  creationTime?: number;
  actions?: Record<
    string,
    {
      actionId?: string;
      parameters?: Record<string, string>;
      targets?: Record<string, string>;
      startAfter?: string[];
    }
  >;
  targets?: Record<string, FisTargetSpec>;
}

export interface FisTargetSpec {
  resourceType?: string;
  resourceArns?: string[];
  resourceTags?: Record<string, string>;
  filters?: { path?: string; values?: string[] }[];
  selectionMode?: string;
}

export interface ActionWindow {
  name: string;
  actionId: string;
  parameters: Record<string, string>;
  /** Action target key (Roles, Subnets, Instances) → the experiment's target name. */
  targets: Record<string, string>;
  startsAt: number;
  endsAt: number;
}

/** What FIS would say the experiment's state is at `now` (epoch ms). */
export type LabStatus = 'running' | 'completed' | 'stopped' | 'failed' | 'cancelled';

const STOPPED = ['stopping', 'stopped'];
const ENDED = ['completed', 'failed', 'cancelled'];

/** Each action's window, in epoch ms, from the experiment's start and the actions' durations. */
export function actionWindows(experiment: FisExperimentView): ActionWindow[] {
  const actions = experiment.actions ?? {};
  const startMs = 1000 * (experiment.startTime ?? experiment.creationTime ?? 0);
  const windows = new Map<string, ActionWindow>();
  const visiting = new Set<string>();
  const windowOf = (name: string): ActionWindow => {
    const known = windows.get(name);
    if (known) return known;
    const action = actions[name];
    // FIS refuses unknown or circular startAfter when the template is created; moto does not.
    if (!action || visiting.has(name))
      throw new Error(`FIS action ${name}: startAfter names no action it can follow`);
    visiting.add(name);
    const startsAt = Math.max(startMs, ...(action.startAfter ?? []).map((before) => windowOf(before).endsAt));
    visiting.delete(name);
    const parameters = action.parameters ?? {};
    const lasts = parameters.duration ?? parameters.startInstancesAfterDuration;
    const window: ActionWindow = {
      name,
      actionId: action.actionId ?? '',
      parameters,
      targets: action.targets ?? {},
      startsAt,
      endsAt: startsAt + (lasts ? isoDurationMs(lasts) : 0),
    };
    windows.set(name, window);
    return window;
  };
  return Object.keys(actions).map(windowOf);
}

export function labStatus(experiment: FisExperimentView, now: number): LabStatus {
  const status = experiment.state?.status ?? 'pending';
  if (STOPPED.includes(status)) return 'stopped';
  if (ENDED.includes(status)) return status as LabStatus;
  const windows = actionWindows(experiment);
  return windows.every((w) => w.endsAt <= now) ? 'completed' : 'running';
}

/** The actions taking effect at `now`: none unless the experiment is running. */
export function activeActions(experiment: FisExperimentView, now: number): ActionWindow[] {
  if (labStatus(experiment, now) !== 'running') return [];
  return actionWindows(experiment).filter((w) => w.startsAt <= now && now < w.endsAt);
}

/** An action's state at `now`, as GetExperiment reports it per action. */
export function actionStatus(window: ActionWindow, experiment: LabStatus, now: number): string {
  if (now < window.startsAt) return experiment === 'running' ? 'pending' : 'cancelled';
  if (now >= window.endsAt) return 'completed';
  return experiment === 'running' ? 'running' : experiment;
}

/**
 * An ISO 8601 duration as FIS writes them (PT30M, PT1H30M, PT90S, P1D): FIS's own limit is 12
 * hours, so years and months never occur.
 */
export function isoDurationMs(text: string): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!match || text === 'P' || text.endsWith('T'))
    throw new Error(`FIS duration ${text}: not ISO 8601 (PT30M)`);
  const [, days, hours, minutes, seconds] = match;
  return (
    ((Number(days ?? 0) * 24 + Number(hours ?? 0)) * 60 + Number(minutes ?? 0)) * 60_000 +
    Number(seconds ?? 0) * 1000
  );
}
