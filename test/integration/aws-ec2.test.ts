/**
 * The awsEc2 fault, the ec2Fleet and dynamodb probes and the AWS safety rails, against moto and
 * dynalite with an in-process worker. What happened is read from moto, not from our journal.
 */
import { describe, expect, it } from 'vitest';
import type { ExperimentInput } from '../../src/experiment/schema';
import type { Ec2Handle } from '../../src/report/journal';
import { statusQuery } from '../../workflows/messages';
import {
  awsErrorProxy,
  awsSettings,
  fisExperiments,
  instanceStates,
  launchInstances,
  MOTO_ACCOUNT,
  motoUrl,
  observeInstances,
  REGION,
} from '../aws-helpers';
import {
  finished,
  proxyState,
  startExperiment,
  startTarget,
  toxiproxyUrl,
  uniqueName,
  useWorker,
  waitFor,
} from '../helpers';

const suite = useWorker('aws-tests');
const { taskQueue } = suite;

/** Stops `selection` of a fleet tagged app=<fleet> for one phase; the fleet size is the hypothesis. */
function stopExperiment(
  fleet: string,
  size: number,
  overrides: Partial<ExperimentInput> = {},
): ExperimentInput {
  return {
    version: 1,
    name: uniqueName('ec2'),
    description: 'Part of the fleet is stopped; the fleet comes back whole.',
    target: { environment: 'local', accounts: [MOTO_ACCOUNT], regions: [REGION] },
    settings: { aws: awsSettings() },
    steadyState: [
      {
        name: 'fleet',
        ec2Fleet: { tags: { app: fleet } },
        sample: { every: '50ms', count: 2 },
        expect: { min: size },
      },
    ],
    phases: [
      {
        name: 'lose-capacity',
        duration: '1500ms',
        faults: [
          { name: 'stop-some', awsEc2: { action: 'stop', tags: { app: fleet }, selection: 'PERCENT(30)' } },
        ],
        expect: [{ probe: 'fleet', every: '100ms', expect: { min: size - 3, max: size - 3 } }],
      },
    ],
    recovery: { within: '10s' },
    ...overrides,
  };
}

describe('the awsEc2 fault', () => {
  it('stops exactly the chosen instances during its phase, and every one runs again after', async () => {
    const fleet = uniqueName('fleet');
    const ids = await launchInstances(10, { app: fleet });
    const observer = observeInstances(ids);
    const { handle } = await startExperiment(suite.client, stopExperiment(fleet, 10), taskQueue);
    const result = await finished(handle);
    const seen = await observer.stop();

    expect(result.verdict, result.reason).toBe('passed');
    const record = result.journal.faults[0];
    if (record?.handle.provider !== 'awsEc2') throw new Error('expected an EC2 fault');
    const ec2: Ec2Handle = record.handle.awsEc2;
    expect(ec2.candidates).toBe(10);
    expect(ec2.instances?.map((i) => i.priorState)).toEqual(['running', 'running', 'running']);
    const chosen = new Set(ec2.instances?.map((i) => i.id));
    // moto saw exactly those three stopped, and no other instance ever left running.
    const stoppedAtSomePoint = new Set(
      seen.flatMap((s) =>
        Object.entries(s.states)
          .filter(([, st]) => st !== 'running')
          .map(([id]) => id),
      ),
    );
    expect(stoppedAtSomePoint).toEqual(chosen);
    expect(seen.some((s) => [...chosen].every((id) => s.states[id] === 'stopped'))).toBe(true);
    expect(Object.values(await instanceStates(ids))).toEqual(Array(10).fill('running'));
    expect(result.journal.environment.awsAccount?.id).toBe(MOTO_ACCOUNT);
    expect(result.journal.phases[0]?.watch?.expectations[0]?.ok).toBe(true);
  });

  it('refuses, changing nothing, when the credentials belong to an account not in target.accounts', async () => {
    const fleet = uniqueName('fleet');
    const ids = await launchInstances(4, { app: fleet });
    const experiment = stopExperiment(fleet, 4, {
      target: { environment: 'local', accounts: ['111122223333'], regions: [REGION] },
    });
    const experimentsBefore = (await fisExperiments()).length;
    const { handle } = await startExperiment(suite.client, experiment, taskQueue);
    const result = await finished(handle);

    expect(result.verdict).toBe('not-started');
    expect(result.refused).toBe('invalid-target');
    expect(result.reason).toContain(`account ${MOTO_ACCOUNT}`);
    expect(result.reason).toContain('not in target.accounts (111122223333)');
    expect(result.journal.faults).toEqual([]);
    expect(Object.values(await instanceStates(ids))).toEqual(Array(4).fill('running'));
    expect((await fisExperiments()).length).toBe(experimentsBefore);
  });

  it('refuses a selection past the blast radius, or one that matches nothing', async () => {
    const fleet = uniqueName('fleet');
    const ids = await launchInstances(4, { app: fleet });
    const all = stopExperiment(fleet, 4);
    const phase = all.phases[0];
    if (phase?.faults?.[0]?.awsEc2) phase.faults[0].awsEc2.selection = 'ALL';
    const tooMany = await finished((await startExperiment(suite.client, all, taskQueue)).handle);
    expect(tooMany.refused).toBe('invalid-target');
    expect(tooMany.reason).toContain(
      'ALL touches 4 of 4 matching instances (100%), above target.maxBlastRadius 50%',
    );

    const nothing = stopExperiment(uniqueName('no-such-fleet'), 0);
    const nothingPhase = nothing.phases[0];
    if (nothingPhase) nothingPhase.expect = [];
    const none = await finished((await startExperiment(suite.client, nothing, taskQueue)).handle);
    expect(none.refused).toBe('invalid-target');
    expect(none.reason).toContain('the selection matches no running instance');
    expect(Object.values(await instanceStates(ids))).toEqual(Array(4).fill('running'));
  });

  it('retries throttling and 5xx answers on inject and revert', async () => {
    const fleet = uniqueName('fleet');
    const ids = await launchInstances(10, { app: fleet });
    const flaky = await awsErrorProxy([
      { action: 'StopInstances', times: 2, status: 503, code: 'RequestLimitExceeded', dryRun: false },
      { action: 'StartInstances', times: 2, status: 500, code: 'InternalError', dryRun: false },
    ]);
    const experiment = stopExperiment(fleet, 10, { settings: { aws: awsSettings(flaky.url) } });
    const result = await finished((await startExperiment(suite.client, experiment, taskQueue)).handle);

    expect(result.verdict, result.reason).toBe('passed');
    expect(flaky.seen.filter((a) => a === 'StopInstances').length).toBe(3);
    expect(flaky.seen.filter((a) => a === 'StartInstances').length).toBeGreaterThanOrEqual(3);
    expect(Object.values(await instanceStates(ids))).toEqual(Array(10).fill('running'));
  });

  it('fails an inject that AWS denies, clearly, and still reverts what the phase did', async () => {
    const fleet = uniqueName('fleet');
    const ids = await launchInstances(10, { app: fleet });
    const target = await startTarget();
    // Allowed by the permission check, denied when it matters (an SCP, a KMS key condition).
    const denied = await awsErrorProxy([
      { action: 'StopInstances', times: 100, status: 403, code: 'UnauthorizedOperation', dryRun: false },
    ]);
    const experiment = stopExperiment(fleet, 10, {
      settings: { aws: awsSettings(denied.url), toxiproxy: { url: toxiproxyUrl() } },
    });
    const phase = experiment.phases[0];
    phase?.faults?.unshift({
      name: 'slow-service',
      toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 10 } },
    });
    const result = await finished((await startExperiment(suite.client, experiment, taskQueue)).handle);
    await target.stop().catch(() => undefined);

    expect(result.verdict).toBe('aborted');
    expect(result.reason).toContain('UnauthorizedOperation');
    expect(result.reason).toContain("the worker's AWS identity is not allowed to do this");
    expect(denied.seen.filter((a) => a === 'StopInstances').length).toBe(1);
    expect(denied.seen).toContain('StopInstances (DryRun)');
    const slow = result.journal.faults.find((f) => f.handle.name === 'slow-service');
    expect(slow?.status).toBe('reverted');
    expect(Object.values(await instanceStates(ids))).toEqual(Array(10).fill('running'));
  });
});

describe('the awsEc2 fault, when AWS does not cooperate', () => {
  it('refuses before anything stops when the identity may stop instances but not start them again', async () => {
    const fleet = uniqueName('fleet');
    const ids = await launchInstances(10, { app: fleet });
    const cannotStart = await awsErrorProxy([
      { action: 'StartInstances', times: 100, status: 403, code: 'UnauthorizedOperation', dryRun: true },
    ]);
    const experiment = stopExperiment(fleet, 10, { settings: { aws: awsSettings(cannotStart.url) } });
    const result = await finished((await startExperiment(suite.client, experiment, taskQueue)).handle);

    expect(result.verdict).toBe('not-started');
    expect(result.refused).toBe('invalid-target');
    expect(result.reason).toContain('ec2 StartInstances (DryRun, checking permission before anything runs)');
    expect(cannotStart.seen).not.toContain('StopInstances');
    expect(Object.values(await instanceStates(ids))).toEqual(Array(10).fill('running'));
  });

  it('starts the others when one stopped instance was terminated meanwhile, and says so', async () => {
    const { EC2Client, TerminateInstancesCommand } = await import('@aws-sdk/client-ec2');
    const fleet = uniqueName('fleet');
    const ids = await launchInstances(10, { app: fleet });
    const experiment = stopExperiment(fleet, 10, { recovery: { within: '3s' } });
    const phase = experiment.phases[0];
    if (phase) {
      phase.duration = '4s';
      phase.expect = [];
    }
    const { handle } = await startExperiment(suite.client, experiment, taskQueue);
    const stopped = await waitFor(
      async () => {
        const states = await instanceStates(ids);
        const down = ids.filter((id) => states[id] === 'stopped');
        return down.length === 3 ? down : null;
      },
      { what: 'three instances to stop' },
    );
    // An Auto Scaling group replaces a stopped instance by terminating it.
    const replaced = stopped[0] ?? '';
    await new EC2Client({ region: REGION, endpoint: motoUrl() }).send(
      new TerminateInstancesCommand({ InstanceIds: [replaced] }),
    );
    const result = await finished(handle);

    const states = await instanceStates(ids);
    expect(stopped.slice(1).map((id) => states[id])).toEqual(['running', 'running']);
    const record = result.journal.faults[0];
    expect(record?.status).toBe('reverted');
    expect(record?.revertNote).toContain(`instances ${replaced} were terminated while stopped`);
    expect(result.journal.events.map((e) => e.type)).toContain('fault.revert-note');
  });
});

describe('the awsEc2 fault, when its targets change before its phase', () => {
  it('stops another matched instance in place of a chosen one terminated since the run was prepared', async () => {
    const { EC2Client, TerminateInstancesCommand } = await import('@aws-sdk/client-ec2');
    const { choose } = await import('../../src/providers/faults/aws-ec2');
    const fleet = uniqueName('fleet');
    const ids = await launchInstances(4, { app: fleet });
    const experiment = stopExperiment(fleet, 4, { recovery: { within: '10s' } });
    const stopOne = experiment.phases[0];
    if (!stopOne) throw new Error('no phase');
    experiment.phases = [
      { name: 'before', duration: '4s' },
      {
        ...stopOne,
        faults: [
          { name: 'stop-one', awsEc2: { action: 'stop', tags: { app: fleet }, selection: 'COUNT(1)' } },
        ],
        expect: [],
      },
    ];
    const { handle, runId } = await startExperiment(suite.client, experiment, taskQueue);
    // An Auto Scaling group scaling in terminates the very instance the run chose, mid-run.
    const [doomed] = choose(ids, 'COUNT(1)', `${runId}/stop-one`);
    await waitFor(async () => ((await handle.query(statusQuery)).phase?.name === 'before' ? true : null), {
      what: 'the first phase',
    });
    await new EC2Client({ region: REGION, endpoint: motoUrl() }).send(
      new TerminateInstancesCommand({ InstanceIds: [doomed ?? ''] }),
    );
    const observer = observeInstances(ids);
    const result = await finished(handle);
    const seen = await observer.stop();

    const record = result.journal.faults[0];
    if (record?.handle.provider !== 'awsEc2') throw new Error('expected an EC2 fault');
    const acted = record.handle.awsEc2.instances?.filter((i) => i.priorState === 'running').map((i) => i.id);
    expect(acted?.length).toBe(1);
    const [replacement] = acted ?? [];
    expect(replacement).not.toBe(doomed);
    expect(seen.some((s) => s.states[replacement ?? ''] === 'stopped')).toBe(true);
    expect((await instanceStates(ids))[replacement ?? '']).toBe('running');
  });
});

describe('the dynamodb probe', () => {
  it('sees DynamoDB behind a downed proxy as errors, and the steady state around it', async () => {
    const { CreateTableCommand, DynamoDBClient, PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    const { dynamoUrl } = await import('../aws-helpers');
    const table = uniqueName('orders');
    const db = new DynamoDBClient({ region: REGION, endpoint: dynamoUrl() });
    await db.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await db.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'health' } } }));
    const dynamo = new URL(dynamoUrl());
    const proxy = await startTarget('ddb', { declareOnly: true });
    const experiment: ExperimentInput = {
      version: 1,
      name: uniqueName('ddb'),
      description: "DynamoDB's endpoint disappears; reads fail while it is gone.",
      target: { environment: 'local' },
      settings: {
        aws: { region: REGION, endpoint: motoUrl(), endpoints: { dynamodb: `http://${proxy.listen}` } },
        toxiproxy: {
          url: toxiproxyUrl(),
          proxies: [
            { name: proxy.proxy, listen: proxy.listen, upstream: `${dynamo.hostname}:${dynamo.port}` },
          ],
        },
      },
      steadyState: [
        {
          name: 'orders-readable',
          dynamodb: { table, operation: 'GetItem', key: { pk: { S: 'health' } }, timeout: '500ms' },
          sample: { every: '50ms', count: 5 },
          expect: { errorRate: 0 },
        },
      ],
      phases: [
        {
          name: 'dns-void',
          duration: '1s',
          faults: [{ name: 'ddb-gone', toxiproxy: { proxy: proxy.proxy, down: true } }],
          expect: [{ probe: 'orders-readable', every: '50ms', expect: { errorRate: 0 } }],
        },
      ],
      recovery: { within: '10s' },
    };
    const result = await finished((await startExperiment(suite.client, experiment, taskQueue)).handle);
    const state = await proxyState(proxy.proxy);
    await proxy.stop();

    expect(result.verdict).toBe('deviated');
    const during = result.journal.phases[0]?.watch?.expectations[0]?.summary;
    expect(during?.errorRate).toBe(1);
    expect(during?.topErrors[0]?.message).toMatch(/refused|closed|reset/);
    expect(result.journal.steadyStateBefore?.ok).toBe(true);
    expect(result.journal.steadyStateAfter?.ok).toBe(true);
    expect(state.enabled).toBe(true);
  });
});
