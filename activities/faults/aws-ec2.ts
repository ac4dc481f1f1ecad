/**
 * The `awsEc2` fault provider: stop, reboot or terminate instances. Which instances is decided once,
 * before anything runs (resolveEc2), deterministically from the run id, and recorded in the
 * handle with each instance's state; inject acts on exactly those, revert starts exactly the
 * ones this run stopped.
 */
import { createHash } from 'node:crypto';
import {
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
import { aws, ec2Client, waitUntil } from '../aws';

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

export async function injectEc2(handle: Ec2Handle, beforeChange: () => void): Promise<void> {
  const ids = requireResolved(handle).map((i) => i.id);
  if (ids.length === 0) return;
  const ec2 = ec2Client(handle);
  beforeChange();
  switch (handle.action) {
    case 'stop':
      await aws('ec2 StopInstances', () => ec2.send(new StopInstancesCommand({ InstanceIds: ids })));
      await waitForStates(handle, ids, ['stopped'], 'the instances to stop');
      return;
    case 'reboot':
      await aws('ec2 RebootInstances', () => ec2.send(new RebootInstancesCommand({ InstanceIds: ids })));
      return;
    case 'terminate':
      await aws('ec2 TerminateInstances', () =>
        ec2.send(new TerminateInstancesCommand({ InstanceIds: ids })),
      );
      return;
  }
}

/**
 * Starts the instances this run stopped and waits until they run. A reboot undoes itself; a
 * termination cannot be undone (the file had to say irreversible: true), so both have nothing left
 * to revert.
 */
export async function revertEc2(handle: Ec2Handle): Promise<{ alreadyGone: boolean }> {
  if (handle.action !== 'stop' || !handle.instances) return { alreadyGone: true };
  const ours = handle.instances.filter((i) => i.priorState === 'running').map((i) => i.id);
  if (ours.length === 0) return { alreadyGone: true };

  let startedAny = false;
  await waitUntil('the stopped instances to run again', handle.waitForMs, async () => {
    const states = await currentStates(handle, ours);
    const gone = ours.filter((id) =>
      ['terminated', 'shutting-down', 'missing'].includes(states.get(id) ?? 'missing'),
    );
    if (gone.length > 0) {
      // Someone else terminated them: nothing this run can start again.
      throw ApplicationFailure.nonRetryable(
        `instances ${gone.join(', ')} were terminated while stopped`,
        'Ec2Gone',
      );
    }
    const stopped = ours.filter((id) => states.get(id) === 'stopped');
    if (stopped.length > 0) {
      startedAny = true;
      await aws('ec2 StartInstances', () =>
        ec2Client(handle).send(new StartInstancesCommand({ InstanceIds: stopped })),
      );
    }
    return ours.every((id) => states.get(id) === 'running') ? true : undefined;
  });
  return { alreadyGone: !startedAny };
}

async function waitForStates(
  handle: Ec2Handle,
  ids: string[],
  wanted: string[],
  what: string,
): Promise<void> {
  await waitUntil(what, handle.waitForMs, async () => {
    const states = await currentStates(handle, ids);
    return ids.every((id) => wanted.includes(states.get(id) ?? '')) ? true : undefined;
  });
}

async function currentStates(location: AwsLocationPlan, ids: string[]): Promise<Map<string, string>> {
  const instances = await describeInstances(location, { instanceIds: ids }, null);
  return new Map(instances.map((i) => [i.InstanceId ?? '', i.State?.Name ?? 'unknown']));
}

function requireResolved(handle: Ec2Handle): NonNullable<Ec2Handle['instances']> {
  if (!handle.instances) {
    throw ApplicationFailure.nonRetryable('the EC2 selection was not resolved before inject', 'Unresolved');
  }
  return handle.instances;
}
