/**
 * The lab's autoscaler, both builds, as the lab's autoscaling role through the lab's AWS front,
 * against a moto of this file's own (its fleet is the autoscaler's whole world): FIS experiments
 * started in moto make its calls fail as in AWS, and each build answers as its lessons say.
 */
import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { FisClient } from '@aws-sdk/client-fis';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Autoscaler } from '../../src/lab/autoscaler';
import { BUILDS, type BuildName } from '../../src/lab/builds';
import { MOTO_ACCOUNT, REGION, roleCredentials, startFisExperiment, useMotoAndFront } from '../aws-helpers';
import { waitFor } from '../helpers';

const ROLE = `arn:aws:iam::${MOTO_ACCOUNT}:role/orders-autoscaling`;
const lab = useMotoAndFront();
let ec2: EC2Client;
let fis: FisClient;

beforeAll(async () => {
  ec2 = new EC2Client({ region: REGION, endpoint: lab.moto.url });
  fis = new FisClient({ region: REGION, endpoint: lab.moto.url });
  // moto's first launch loads its EC2 catalogue (seconds); the fragile build's 1s timeout would spend them failing.
  const warm = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1 }));
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [warm.Instances?.[0]?.InstanceId ?? ''] }));
});

/** The orders fleet as moto has it: instance id → state, terminated ones left out. */
async function fleet(): Promise<Record<string, string>> {
  const answer = await ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: 'tag:app', Values: ['orders'] }] }),
  );
  return Object.fromEntries(
    (answer.Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .filter((i) => i.State?.Name !== 'terminated')
      .map((i) => [i.InstanceId ?? '', i.State?.Name ?? '']),
  );
}
const running = async () => Object.entries(await fleet()).filter(([, state]) => state === 'running');

/** An autoscaler of the build, as the autoscaling role; stopped, and its fleet terminated, after the test. */
async function startAutoscaler(build: BuildName, desired: number) {
  const lines: string[] = [];
  const autoscaler = new Autoscaler({
    desired,
    ec2Endpoint: lab.frontUrl,
    behaviour: BUILDS[build].autoscaler,
    credentials: await roleCredentials(lab.moto.url, ROLE, `autoscaler-${build}`),
    scaleInOrder: (ids) => ids,
    log: (line) => lines.push(line),
  });
  autoscaler.start();
  onTestFinished(async () => {
    await autoscaler.stop();
    const ids = Object.keys(await fleet());
    if (ids.length) await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  });
  return { autoscaler, lines };
}

const startFis = (actions: Record<string, { actionId: string; parameters: Record<string, string> }>) =>
  startFisExperiment(fis, {
    targets: {
      'autoscaling-role': { resourceType: 'aws:iam:role', resourceArns: [ROLE], selectionMode: 'ALL' },
    },
    actions: Object.fromEntries(
      Object.entries(actions).map(([name, a]) => [name, { ...a, targets: { Roles: 'autoscaling-role' } }]),
    ),
  });

const NO_CAPACITY = {
  'no-capacity': {
    actionId: 'aws:ec2:api-insufficient-instance-capacity-error',
    parameters: {
      availabilityZoneIdentifiers: 'us-east-1a,us-east-1b,us-east-1c',
      percentage: '100',
      duration: 'PT30M',
    },
  },
};

/**
 * Launches fail for lack of capacity while one instance is stopped (the lease collapse); then the
 * stopped instance comes back. What each build does with it.
 */
async function leaseCollapse(build: BuildName) {
  const { autoscaler, lines } = await startAutoscaler(build, 3);
  await waitFor(async () => (await running()).length === 3, { what: 'the autoscaler to launch 3 instances' });
  const experiment = await startFis(NO_CAPACITY);
  // Only once the front has read the experiment does it answer launches with no capacity: a loss
  // before that would be replaced at once, and nothing would ever fail.
  await waitFor(() => lab.front.active.some((action) => action.experimentId === experiment), {
    what: 'the front to take the experiment into effect',
  });
  const [lost] = (await running())[0] ?? [''];
  await ec2.send(new StopInstancesCommand({ InstanceIds: [lost] }));
  await waitFor(() => (autoscaler.metrics.errors.InsufficientInstanceCapacity ?? 0) >= 1, {
    what: () => `launches to fail for lack of capacity; log: ${lines.slice(-3).join(' | ')}`,
  });
  await ec2.send(new StartInstancesCommand({ InstanceIds: [lost] }));
  return { autoscaler, lines, lost };
}

describe('the lab autoscaler under FIS', () => {
  it('fragile: shrinks when it cannot launch, and terminates the capacity that comes back', async () => {
    const { autoscaler, lines } = await leaseCollapse('fragile');
    await waitFor(() => autoscaler.metrics.terminated >= 1, {
      what: () => `a scale-in; log: ${lines.slice(-3).join(' | ')}`,
    });
    expect(lines).toContain('autoscaler: no capacity; scaling in to 2');
  });

  it('hardened: keeps its size and terminates nothing while launches fail for lack of capacity', async () => {
    const { autoscaler, lines } = await leaseCollapse('hardened');
    let seen = {};
    await waitFor(
      async () => {
        seen = await fleet();
        return Object.values(seen).filter((state) => state === 'running').length === 3;
      },
      { what: () => `the stopped instance to run again; fleet: ${JSON.stringify(seen)}` },
    );
    // Many looks at the fleet of 3 after it came back, none of which scales anything in.
    const calls = autoscaler.metrics.calls;
    await waitFor(() => autoscaler.metrics.calls >= calls + 10, { what: 'ten more EC2 calls' });
    expect(autoscaler.metrics.terminated).toBe(0);
    expect(autoscaler.metrics.size).toBe(3);
    expect(lines.filter((line) => line.includes('scaling in'))).toEqual([]);
    expect((await running()).length).toBe(3);
  });

  const throttledRetries = async (build: BuildName) => {
    const { lines } = await startAutoscaler(build, 1);
    await startFis({
      throttle: {
        actionId: 'aws:fis:inject-api-throttle-error',
        parameters: { service: 'ec2', operations: 'DescribeInstances', percentage: '100', duration: 'PT30M' },
      },
    });
    const delays = () =>
      lines
        .filter((line) => line.includes('RequestLimitExceeded'))
        .map((line) => Number(/next try in (\d+)ms/.exec(line)?.[1]));
    return waitFor(() => (delays().length >= 4 ? delays().slice(0, 4) : null), {
      what: () => `four throttled calls; log: ${lines.slice(-3).join(' | ')}`,
    });
  };

  it('fragile: retries a throttled call at once', async () => {
    expect(await throttledRetries('fragile')).toEqual([50, 50, 50, 50]);
  });

  it('hardened: backs off from RequestLimitExceeded, exponentially and jittered', async () => {
    const delays = await throttledRetries('hardened');
    // Equal jitter over 1s, 2s, 4s, 8s: each at least half its step, at most the step.
    [1_000, 2_000, 4_000, 8_000].forEach((step, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(step / 2);
      expect(delays[i]).toBeLessThanOrEqual(step);
    });
  });
});
