/**
 * The `awsEc2` fault provider: stop, reboot or terminate instances. Which instances is decided once,
 * before anything runs (resolveEc2), deterministically from the run id, and recorded in the
 * handle with each instance's state; inject acts on exactly those, revert starts exactly the
 * ones this run stopped.
 */
import { createHash } from 'node:crypto';
import type { Filter, Instance } from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { ec2FaultIssues } from '../../experiment/aws-checks';
import { Ec2Fault, SELECTION_PATTERN } from '../../experiment/aws-schema';
import { parseDuration } from '../../experiment/duration';
import { aws, awsFailure, ec2, waitUntil } from '../aws';
import { AwsLocation, type AwsLocationPlan } from '../aws-location';
import { type FaultProvider, refused, unavailable } from '../fault-provider';

export const Ec2Instance = z.object({ id: z.string(), priorState: z.string() });

export const Ec2Handle = z.object({
  ...AwsLocation,
  action: z.enum(['stop', 'reboot', 'terminate']),
  selector: z.object({
    instanceIds: z.array(z.string()).optional(),
    tags: z.record(z.string(), z.string()).optional(),
    filters: z.array(z.object({ name: z.string(), values: z.array(z.string()) })).optional(),
  }),
  selection: z.string(),
  allowEmpty: z.boolean(),
  waitForMs: z.number(),
  /** Seeds the deterministic choice among the candidates: the same run picks the same instances. */
  seed: z.string(),
  /** Exactly which instances the run touches, with their state before it; null until resolved. */
  instances: z.array(Ec2Instance).nullable(),
  candidates: z.number().int().nullable(),
  /** Every instance the selector matches in any live state: what the run's locks cover. */
  matched: z.array(z.string()).nullable().default(null),
});
export type Ec2Handle = z.infer<typeof Ec2Handle>;

export interface Ec2Selector {
  instanceIds?: string[];
  tags?: Record<string, string>;
  filters?: { name: string; values: string[] }[];
}

/** The instances matching a selector in the given states, as DescribeInstances reports them. */
export async function describeInstances(
  location: AwsLocationPlan,
  selector: Ec2Selector,
  states: string[] | null,
): Promise<Instance[]> {
  const filters: Filter[] = [
    ...Object.entries(selector.tags ?? {}).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
    ...(selector.filters ?? []).map((f) => ({ Name: f.name, Values: f.values })),
    ...(states ? [{ Name: 'instance-state-name', Values: states }] : []),
  ];
  const instances: Instance[] = [];
  let NextToken: string | undefined;
  do {
    const { sdk, client } = await ec2(location);
    const page = await aws('ec2 DescribeInstances', () =>
      client.send(
        new sdk.DescribeInstancesCommand({
          InstanceIds: selector.instanceIds,
          Filters: filters.length ? filters : undefined,
          NextToken,
        }),
      ),
    );
    instances.push(...(page.Reservations ?? []).flatMap((r) => r.Instances ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return instances;
}

/** Stop and reboot act on running instances; terminate on running or stopped ones. */
const CANDIDATE_STATES = { stop: ['running'], reboot: ['running'], terminate: ['running', 'stopped'] };

export async function resolveEc2(handle: Ec2Handle): Promise<Ec2Handle> {
  const matched = await describeInstances(handle, handle.selector, [
    'pending',
    'running',
    'stopping',
    'stopped',
  ]);
  const candidates = matched.filter((i) => CANDIDATE_STATES[handle.action].includes(i.State?.Name ?? ''));
  const chosen = choose(
    candidates.map((i) => i.InstanceId ?? ''),
    handle.selection,
    handle.seed,
  );
  const stateOf = new Map(candidates.map((i) => [i.InstanceId, i.State?.Name ?? 'unknown']));
  return {
    ...handle,
    candidates: candidates.length,
    matched: matched.map((i) => i.InstanceId ?? '').sort(),
    instances: chosen.map((id) => ({ id, priorState: stateOf.get(id) ?? 'unknown' })),
  };
}

/**
 * ALL, COUNT(n) or PERCENT(n) of the candidates, ranked by a hash of the seed and the instance id:
 * the same run always picks the same instances, another run picks others. PERCENT rounds down
 * but picks at least one when there is any.
 */
export function choose(candidates: string[], selection: string, seed: string): string[] {
  const ranked = [...candidates].sort(
    (a, b) => rank(seed, a).localeCompare(rank(seed, b)) || a.localeCompare(b),
  );
  const match = SELECTION_PATTERN.exec(selection);
  if (!match) throw new Error(`not a selection: ${selection}`);
  if (match[2] !== undefined) return ranked.slice(0, Number(match[2]));
  if (match[3] !== undefined) {
    const count = Math.floor((candidates.length * Number(match[3])) / 100);
    return ranked.slice(0, Math.max(count, candidates.length > 0 ? 1 : 0));
  }
  return ranked;
}

const rank = (seed: string, id: string) => createHash('sha256').update(`${seed}/${id}`).digest('hex');

/**
 * The chosen instances as they are now, each that can no longer be acted on followed by a
 * replacement from the instances matched (and locked) at prepare: as many are acted on as were
 * chosen, when enough are left.
 */
async function chooseAgain(
  handle: Ec2Handle,
  chosen: NonNullable<Ec2Handle['instances']>,
): Promise<NonNullable<Ec2Handle['instances']>> {
  const ids = chosen.map((i) => i.id);
  const matched = handle.matched ?? ids;
  const now = await currentStates(handle, [...new Set([...ids, ...matched])]);
  const stateOf = (id: string) => now.get(id)?.state ?? 'gone';
  const actionable = (id: string) => CANDIDATE_STATES[handle.action].includes(stateOf(id));
  const lost = ids.filter((id) => !actionable(id)).length;
  const spare = choose(
    matched.filter((id) => !ids.includes(id) && actionable(id)),
    'ALL',
    handle.seed,
  ).slice(0, lost);
  return [...ids, ...spare].map((id) => ({ id, priorState: stateOf(id) }));
}

/**
 * Acts on the chosen instances. On its first attempt it looks again at the states of every
 * instance the selector matched when the run was prepared (all of them are locked): a chosen one
 * that someone else stopped or replaced since then is left alone, and the handle says so, so the
 * revert will not start what this run did not stop; in its place the next one in the run's order
 * that can still be acted on is chosen, as FIS resolves its targets when an action starts. Later
 * attempts (after a crash) keep the states recorded before: by then the stopped ones may be ours.
 */
export async function injectEc2(
  handle: Ec2Handle,
  beforeChange: () => void,
  firstAttempt: boolean,
  signal?: AbortSignal,
): Promise<Ec2Handle> {
  let instances = requireResolved(handle);
  if (firstAttempt) instances = await chooseAgain(handle, instances);
  const ids = instances
    .filter((i) => CANDIDATE_STATES[handle.action].includes(i.priorState))
    .map((i) => i.id);
  const updated = { ...handle, instances };
  if (ids.length === 0) return updated;
  const { sdk, client } = await ec2(handle);
  beforeChange();
  switch (handle.action) {
    case 'stop':
      // Marked first, like a down proxy: whoever finds it stopped can tell which run did it (gameday sweep).
      await aws('ec2 CreateTags', () =>
        client.send(new sdk.CreateTagsCommand({ Resources: ids, Tags: stoppedTags(handle) })),
      );
      await aws('ec2 StopInstances', () => client.send(new sdk.StopInstancesCommand({ InstanceIds: ids })));
      await waitUntil(
        'the instances to stop',
        handle.waitForMs,
        async () => {
          const states = await currentStates(handle, ids);
          return ids.every((id) => ['stopped', 'gone'].includes(states.get(id)?.state ?? 'gone'))
            ? true
            : undefined;
        },
        signal,
      );
      break;
    case 'reboot':
      await aws('ec2 RebootInstances', () =>
        client.send(new sdk.RebootInstancesCommand({ InstanceIds: ids })),
      );
      break;
    case 'terminate':
      await aws('ec2 TerminateInstances', () =>
        client.send(new sdk.TerminateInstancesCommand({ InstanceIds: ids })),
      );
      break;
  }
  return updated;
}

/**
 * Starts the instances this run stopped and waits until they run. One that was terminated
 * meanwhile (an Auto Scaling group replaces stopped instances) cannot be started; the others are
 * started all the same, and the note says which were gone. A reboot undoes itself; a termination
 * cannot be undone (the file had to say irreversible: true).
 */
export async function revertEc2(
  handle: Ec2Handle,
  signal?: AbortSignal,
): Promise<{ alreadyGone: boolean; note?: string }> {
  if (handle.action !== 'stop' || !handle.instances) return { alreadyGone: true };
  const ours = handle.instances.filter((i) => i.priorState === 'running').map((i) => i.id);
  if (ours.length === 0) return { alreadyGone: true };

  let startedAny = false;
  let gone: string[] = [];
  let last = new Map<string, InstanceState>();
  try {
    await waitUntil(
      'the stopped instances to run again',
      handle.waitForMs,
      async () => {
        last = await currentStates(handle, ours);
        gone = ours.filter((id) => GONE.includes(last.get(id)?.state ?? 'gone'));
        const stopped = ours.filter((id) => last.get(id)?.state === 'stopped');
        if (stopped.length > 0) {
          startedAny = true;
          await startInstances(handle, stopped);
        }
        return ours.every((id) => gone.includes(id) || last.get(id)?.state === 'running') ? true : undefined;
      },
      signal,
    );
  } catch (error) {
    // Say why an instance does not come back: AWS puts it in the state reason (a KMS grant, say).
    const reasons = ours
      .filter((id) => last.get(id)?.state !== 'running' && last.get(id)?.reason)
      .map((id) => `${id}: ${last.get(id)?.state}, ${last.get(id)?.reason}`);
    if (reasons.length === 0) throw error;
    throw unavailable(`${(error as Error).message} (${reasons.join('; ')})`);
  }
  const running = ours.filter((id) => !gone.includes(id));
  if (running.length > 0) {
    const { sdk, client } = await ec2(handle);
    await aws('ec2 DeleteTags', () =>
      client.send(new sdk.DeleteTagsCommand({ Resources: running, Tags: stoppedTags(handle) })),
    );
  }
  const note = gone.length
    ? `instances ${gone.join(', ')} were terminated while stopped, by someone else (an Auto Scaling group replaces stopped instances): nothing to start`
    : undefined;
  return { alreadyGone: !startedAny, ...(note ? { note } : {}) };
}

const GONE = ['terminated', 'shutting-down', 'gone'];

/** The tag on an instance a run stopped, until its revert starts it again. */
export const STOPPED_BY_TAG = 'gameday:stopped-by';

/** The run id and fault name, from the seed (`<runId>/<fault>`) the plan gives every EC2 fault. */
function stoppedTags(handle: Ec2Handle): { Key: string; Value: string }[] {
  const slash = handle.seed.lastIndexOf('/');
  return [
    { Key: STOPPED_BY_TAG, Value: handle.seed.slice(0, slash) },
    { Key: 'gameday:fault', Value: handle.seed.slice(slash + 1) },
  ];
}

async function startInstances(handle: Ec2Handle, ids: string[]): Promise<void> {
  const { sdk, client } = await ec2(handle);
  try {
    await aws('ec2 StartInstances', () => client.send(new sdk.StartInstancesCommand({ InstanceIds: ids })));
  } catch (error) {
    // Still stopping, or gone in between: the next look decides.
    if (!/IncorrectInstanceState|InvalidInstanceID/.test((error as Error).message)) throw error;
  }
}

/**
 * Asks whether this identity may do what the fault and its revert will do, without doing it
 * (EC2 DryRun): a role that may stop but not start instances is refused before anything stops.
 */
export async function checkEc2Permissions(handle: Ec2Handle): Promise<void> {
  const ids = handle.instances?.map((i) => i.id) ?? [];
  if (ids.length === 0) return;
  const { sdk, client } = await ec2(handle);
  const calls = {
    stop: [
      ['StopInstances', () => client.send(new sdk.StopInstancesCommand({ InstanceIds: ids, DryRun: true }))],
      [
        'StartInstances',
        () => client.send(new sdk.StartInstancesCommand({ InstanceIds: ids, DryRun: true })),
      ],
    ],
    reboot: [
      [
        'RebootInstances',
        () => client.send(new sdk.RebootInstancesCommand({ InstanceIds: ids, DryRun: true })),
      ],
    ],
    terminate: [
      [
        'TerminateInstances',
        () => client.send(new sdk.TerminateInstancesCommand({ InstanceIds: ids, DryRun: true })),
      ],
    ],
  } as const;
  for (const [action, call] of calls[handle.action]) {
    try {
      await call();
    } catch (error) {
      if ((error as Error).name === 'DryRunOperation') continue;
      throw awsFailure(error, `ec2 ${action} (DryRun, checking permission before anything runs)`);
    }
  }
}

interface InstanceState {
  state: string;
  reason?: string;
}

/**
 * The states of the given instances; one that no longer exists is missing from the map. A filter
 * on instance-id, not InstanceIds: AWS fails the whole call when one of the ids was purged.
 */
async function currentStates(location: AwsLocationPlan, ids: string[]): Promise<Map<string, InstanceState>> {
  const instances = await describeInstances(
    location,
    { filters: [{ name: 'instance-id', values: ids }] },
    null,
  );
  return new Map(
    instances.map((i) => [
      i.InstanceId ?? '',
      {
        state: i.State?.Name ?? 'unknown',
        ...(i.StateReason?.Message ? { reason: i.StateReason.Message } : {}),
      },
    ]),
  );
}

function requireResolved(handle: Ec2Handle): NonNullable<Ec2Handle['instances']> {
  if (!handle.instances) {
    throw refused('the EC2 selection was not resolved before inject');
  }
  return handle.instances;
}

/** The refusals before anything runs: nothing selected, or too much of the fleet. */
function checkBlastRadius(handle: Ec2Handle, fault: string, maxBlastRadius: number): void {
  const { instances, candidates, allowEmpty, selection } = handle;
  const chosen = instances?.length ?? 0;
  if (chosen === 0 && !allowEmpty) {
    throw refused(
      `fault ${fault}: the selection matches no ${handle.action === 'terminate' ? 'running or stopped' : 'running'} ` +
        `instance (${JSON.stringify(handle.selector)}); set allowEmpty: true if that is expected`,
    );
  }
  const percent = candidates ? (100 * chosen) / candidates : 0;
  if (percent > maxBlastRadius) {
    throw refused(
      `fault ${fault}: ${selection} touches ${chosen} of ${candidates} matching instances (${percent.toFixed(0)}%), ` +
        `above target.maxBlastRadius ${maxBlastRadius}%`,
    );
  }
}

/**
 * The whole selection, not only the chosen instances: two runs on one fleet would confound each
 * other even when they stop different instances.
 */
export const ec2LockKeys = (handle: Ec2Handle) =>
  (handle.matched ?? handle.instances?.map((i) => i.id) ?? []).map((id) => `ec2/${handle.region}/${id}`);

function describeEc2(e: Ec2Handle): string {
  const which = e.instances
    ? `${e.instances.length} of ${e.candidates} matching instances: ${e.instances.map((i) => i.id).join(', ') || 'none'}`
    : `${e.selection} of ${JSON.stringify(e.selector)} (not resolved yet)`;
  return `ec2 ${e.region} ${e.action} ${which}`;
}

const dropUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

export const awsEc2 = {
  spec: Ec2Fault,
  handle: Ec2Handle,
  usesAws: true,
  issues: (raw, path, experiment) => ec2FaultIssues(raw, path, maxBlastRadiusOf(experiment)),
  plan: (spec, ctx) => ({
    ...ctx.aws.location('ec2'),
    action: spec.action,
    selector: dropUndefined({ instanceIds: spec.instanceIds, tags: spec.tags, filters: spec.filters }),
    selection: spec.selection,
    allowEmpty: spec.allowEmpty,
    waitForMs: parseDuration(spec.waitFor),
    seed: `${ctx.runId}/${ctx.fault}`,
    instances: null,
    candidates: null,
    matched: null,
  }),
  async resolve(handle, ctx) {
    const resolved = await resolveEc2(handle);
    checkBlastRadius(resolved, ctx.fault, ctx.maxBlastRadius);
    await checkEc2Permissions(resolved);
    return { handle: resolved, lockKeys: ec2LockKeys(resolved) };
  },
  inject: (handle, ctx) => injectEc2(handle, ctx.beforeChange, ctx.firstAttempt, ctx.signal),
  revert: (handle, ctx) => revertEc2(handle, ctx.signal),
  describe: describeEc2,
  async planLines(e, fault) {
    // Which instances depends on the run id: without --id, say which could be chosen.
    const lines = e.seed.startsWith('<runId>/')
      ? [
          `${fault}: ec2 ${e.region} ${e.action} ${e.selection} of the ${e.candidates} matching ` +
            `${e.action === 'terminate' ? 'running or stopped' : 'running'} instances, chosen by the run id ` +
            `(plan --id RUN_ID shows exactly which): ${(e.matched ?? []).join(', ') || 'none'}`,
        ]
      : [`${fault}: ${describeEc2(e)}`];
    if (e.action === 'terminate') {
      lines.push('THIS TERMINATES INSTANCES. IT CANNOT BE UNDONE: ROLLBACK WILL NOT BRING THEM BACK.');
    }
    return lines;
  },
} satisfies FaultProvider<typeof Ec2Fault, typeof Ec2Handle>;

function maxBlastRadiusOf(experiment: Record<string, unknown>): number {
  const target = experiment.target as { maxBlastRadius?: unknown } | undefined;
  return typeof target?.maxBlastRadius === 'number' ? target.maxBlastRadius : 50;
}
