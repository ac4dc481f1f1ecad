/**
 * The `awsEc2` fault provider: stop, reboot or terminate instances. Which instances is decided once,
 * before anything runs (resolveEc2), deterministically from the run id, and recorded in the
 * handle with each instance's state; inject acts on exactly those, revert starts exactly the
 * ones this run stopped.
 */
import { createHash } from 'node:crypto';
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  type Filter,
  type Instance,
  RebootInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import { SELECTION_PATTERN } from '../../src/experiment/aws-schema';
import type { AwsLocationPlan } from '../../src/experiment/plan';
import type { Ec2Handle } from '../../src/report/journal';
import { aws, awsFailure, ec2Client, waitUntil } from '../aws';

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
    const page = await aws('ec2 DescribeInstances', () =>
      ec2Client(location).send(
        new DescribeInstancesCommand({
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
 * Acts on the chosen instances. On its first attempt it looks again at their states: one that
 * someone else stopped or replaced since the run was prepared is left alone, and the handle says
 * so, so the revert will not start what this run did not stop. Later attempts (after a crash)
 * keep the states recorded before: by then the stopped ones may be ours.
 */
export async function injectEc2(
  handle: Ec2Handle,
  beforeChange: () => void,
  firstAttempt: boolean,
): Promise<Ec2Handle> {
  let instances = requireResolved(handle);
  if (firstAttempt) {
    const now = await currentStates(
      handle,
      instances.map((i) => i.id),
    );
    instances = instances.map((i) => ({ id: i.id, priorState: now.get(i.id)?.state ?? 'gone' }));
  }
  const ids = instances
    .filter((i) => CANDIDATE_STATES[handle.action].includes(i.priorState))
    .map((i) => i.id);
  const updated = { ...handle, instances };
  if (ids.length === 0) return updated;
  const ec2 = ec2Client(handle);
  beforeChange();
  switch (handle.action) {
    case 'stop':
      // Marked first, like a down proxy: whoever finds it stopped can tell which run did it (gameday sweep).
      await aws('ec2 CreateTags', () =>
        ec2.send(new CreateTagsCommand({ Resources: ids, Tags: stoppedTags(handle) })),
      );
      await aws('ec2 StopInstances', () => ec2.send(new StopInstancesCommand({ InstanceIds: ids })));
      await waitUntil('the instances to stop', handle.waitForMs, async () => {
        const states = await currentStates(handle, ids);
        return ids.every((id) => ['stopped', 'gone'].includes(states.get(id)?.state ?? 'gone'))
          ? true
          : undefined;
      });
      break;
    case 'reboot':
      await aws('ec2 RebootInstances', () => ec2.send(new RebootInstancesCommand({ InstanceIds: ids })));
      break;
    case 'terminate':
      await aws('ec2 TerminateInstances', () =>
        ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })),
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
export async function revertEc2(handle: Ec2Handle): Promise<{ alreadyGone: boolean; note?: string }> {
  if (handle.action !== 'stop' || !handle.instances) return { alreadyGone: true };
  const ours = handle.instances.filter((i) => i.priorState === 'running').map((i) => i.id);
  if (ours.length === 0) return { alreadyGone: true };

  let startedAny = false;
  let gone: string[] = [];
  let last = new Map<string, InstanceState>();
  try {
    await waitUntil('the stopped instances to run again', handle.waitForMs, async () => {
      last = await currentStates(handle, ours);
      gone = ours.filter((id) => GONE.includes(last.get(id)?.state ?? 'gone'));
      const stopped = ours.filter((id) => last.get(id)?.state === 'stopped');
      if (stopped.length > 0) {
        startedAny = true;
        await startInstances(handle, stopped);
      }
      return ours.every((id) => gone.includes(id) || last.get(id)?.state === 'running') ? true : undefined;
    });
  } catch (error) {
    // Say why an instance does not come back: AWS puts it in the state reason (a KMS grant, say).
    const reasons = ours
      .filter((id) => last.get(id)?.state !== 'running' && last.get(id)?.reason)
      .map((id) => `${id}: ${last.get(id)?.state}, ${last.get(id)?.reason}`);
    if (reasons.length === 0) throw error;
    throw ApplicationFailure.retryable(
      `${(error as Error).message} (${reasons.join('; ')})`,
      'Ec2NotRunning',
    );
  }
  const running = ours.filter((id) => !gone.includes(id));
  if (running.length > 0)
    await aws('ec2 DeleteTags', () =>
      ec2Client(handle).send(new DeleteTagsCommand({ Resources: running, Tags: stoppedTags(handle) })),
    );
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
  try {
    await aws('ec2 StartInstances', () =>
      ec2Client(handle).send(new StartInstancesCommand({ InstanceIds: ids })),
    );
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
  const ec2 = ec2Client(handle);
  const calls = {
    stop: [
      ['StopInstances', () => ec2.send(new StopInstancesCommand({ InstanceIds: ids, DryRun: true }))],
      ['StartInstances', () => ec2.send(new StartInstancesCommand({ InstanceIds: ids, DryRun: true }))],
    ],
    reboot: [
      ['RebootInstances', () => ec2.send(new RebootInstancesCommand({ InstanceIds: ids, DryRun: true }))],
    ],
    terminate: [
      [
        'TerminateInstances',
        () => ec2.send(new TerminateInstancesCommand({ InstanceIds: ids, DryRun: true })),
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
    throw ApplicationFailure.nonRetryable('the EC2 selection was not resolved before inject', 'Unresolved');
  }
  return handle.instances;
}
