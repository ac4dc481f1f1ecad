/**
 * The lab's AWS front against a moto of this file's own (its FIS state manager set as the lab sets
 * it), the suite's Toxiproxy and dynalite: FIS experiments started in moto take effect on what an
 * SDK client sees through the front, as the SDK parses AWS's own errors, and stop when stopped.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  FisClient,
  GetExperimentCommand,
  ListExperimentsCommand,
  StopExperimentCommand,
} from '@aws-sdk/client-fis';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { AwsFront } from '../../src/lab/aws-front';
import {
  dynamoUrl,
  MOTO_ACCOUNT,
  REGION,
  roleCredentials,
  startFisExperiment,
  useMotoAndFront,
} from '../aws-helpers';
import { toxiproxyUrl, uniqueName, waitFor } from '../helpers';

const ROLE = `arn:aws:iam::${MOTO_ACCOUNT}:role/orders-autoscaling`;
let subnetId: string;
let dynamoProxy: string;
let fis: FisClient;

const lab = useMotoAndFront(async (motoUrl) => {
  const ec2 = new EC2Client({ region: REGION, endpoint: motoUrl });
  const subnets = await ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1a'] }] }),
  );
  subnetId = subnets.Subnets?.[0]?.SubnetId ?? '';
  await ec2.send(new CreateTagsCommand({ Resources: [subnetId], Tags: [{ Key: 'app', Value: 'orders' }] }));
  dynamoProxy = uniqueName('front-dynamodb');
  const created = await fetch(`${toxiproxyUrl()}/proxies`, {
    method: 'POST',
    body: JSON.stringify({
      name: dynamoProxy,
      listen: '127.0.0.1:0',
      upstream: new URL(dynamoUrl()).host,
      enabled: true,
    }),
  });
  expect(created.status).toBe(201);
  fis = new FisClient({ region: REGION, endpoint: motoUrl });
  return { dynamodb: { toxiproxyUrl: toxiproxyUrl(), proxy: dynamoProxy, subnetId } };
});
afterAll(async () => {
  await fetch(`${toxiproxyUrl()}/proxies/${dynamoProxy}`, { method: 'DELETE' }).catch(() => undefined);
});

/** EC2 through the front as the lab's autoscaler: credentials of the role, from moto's STS. */
async function ec2AsRole(roleArn = ROLE): Promise<EC2Client> {
  return new EC2Client({
    region: REGION,
    endpoint: lab.frontUrl,
    maxAttempts: 1,
    credentials: await roleCredentials(lab.moto.url, roleArn, 'autoscaler'),
  });
}

const startFis = (template: Parameters<typeof startFisExperiment>[1]) => startFisExperiment(fis, template);

const roleTarget = {
  'autoscaling-role': { resourceType: 'aws:iam:role', resourceArns: [ROLE], selectionMode: 'ALL' },
};
const launch = (ec2: EC2Client, zone?: string) =>
  ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: 1,
      MaxCount: 1,
      Placement: zone ? { AvailabilityZone: zone } : undefined,
    }),
  );
const failure = (call: Promise<unknown>) =>
  call.then(
    () => null,
    (error: { name: string; $fault?: string; $metadata: { httpStatusCode?: number; requestId?: string } }) =>
      error,
  );

describe('the lab AWS front', () => {
  it('answers RunInstances from the targeted role with InsufficientInstanceCapacity while the experiment runs, as EC2 does', async () => {
    const autoscaler = await ec2AsRole();
    const someoneElse = new EC2Client({ region: REGION, endpoint: lab.frontUrl, maxAttempts: 1 });
    expect(await failure(launch(autoscaler))).toBeNull();
    const id = await startFis({
      targets: roleTarget,
      actions: {
        'no-capacity': {
          actionId: 'aws:ec2:api-insufficient-instance-capacity-error',
          parameters: {
            availabilityZoneIdentifiers: 'us-east-1a,us-east-1b',
            percentage: '100',
            duration: 'PT10M',
          },
          targets: { Roles: 'autoscaling-role' },
        },
      },
    });
    const error = await waitFor(() => failure(launch(autoscaler)), { what: 'RunInstances to fail' });
    expect(error.name).toBe('InsufficientInstanceCapacity');
    expect(error.$fault).toBe('server');
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(error.$metadata.requestId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    // Other principals, other zones and other operations are untouched, as in AWS.
    expect(await failure(launch(someoneElse))).toBeNull();
    expect(await failure(launch(autoscaler, 'us-east-1c'))).toBeNull();
    expect(await failure(autoscaler.send(new DescribeInstancesCommand({})))).toBeNull();
    // FIS's answers through the front say what FIS would: running, then stopped.
    const viaFront = new FisClient({ region: REGION, endpoint: lab.frontUrl });
    const running = await viaFront.send(new GetExperimentCommand({ id }));
    expect(running.experiment?.state?.status).toBe('running');
    expect(running.experiment?.actions?.['no-capacity']?.state?.status).toBe('running');

    await fis.send(new StopExperimentCommand({ id }));
    await waitFor(async () => (await failure(launch(autoscaler))) === null, {
      what: 'RunInstances to launch again',
    });
    expect((await viaFront.send(new GetExperimentCommand({ id }))).experiment?.state?.status).toBe('stopped');
  });

  it("lists a just-started experiment as running, before the front's own poll has seen it", async () => {
    const slow = new AwsFront({ motoUrl: lab.moto.url, pollEveryMs: 600_000 });
    const slowUrl = await slow.listen();
    onTestFinished(() => slow.close());
    const id = await startFis({
      targets: roleTarget,
      actions: {
        throttle: {
          actionId: 'aws:fis:inject-api-throttle-error',
          parameters: { service: 'ec2', operations: 'DescribeVpcs', percentage: '1', duration: 'PT10M' },
          targets: { Roles: 'autoscaling-role' },
        },
      },
    });
    const listed = await new FisClient({ region: REGION, endpoint: slowUrl }).send(
      new ListExperimentsCommand({}),
    );
    expect(listed.experiments?.find((e) => e.id === id)?.state?.status).toBe('running');
  });

  it('throttles and fails the named operations at the action percentage, and only those', async () => {
    const autoscaler = await ec2AsRole();
    const operations = { service: 'ec2', duration: 'PT10M' };
    await startFis({
      targets: roleTarget,
      actions: {
        throttle: {
          actionId: 'aws:fis:inject-api-throttle-error',
          parameters: { ...operations, operations: 'DescribeInstances', percentage: '50' },
          targets: { Roles: 'autoscaling-role' },
        },
        unavailable: {
          actionId: 'aws:fis:inject-api-unavailable-error',
          parameters: { ...operations, operations: 'DescribeVpcs, CreateTags', percentage: '100' },
          targets: { Roles: 'autoscaling-role' },
        },
      },
    });
    const unavailable = await waitFor(() => failure(autoscaler.send(new DescribeVpcsCommand({}))), {
      what: 'DescribeVpcs to fail',
    });
    expect([unavailable.name, unavailable.$metadata.httpStatusCode]).toEqual(['ServiceUnavailable', 503]);

    const answers = [];
    for (let i = 0; i < 200; i++)
      answers.push(await failure(autoscaler.send(new DescribeInstancesCommand({}))));
    const throttled = answers.filter((e) => e !== null);
    expect(new Set(throttled.map((e) => `${e?.name} ${e?.$metadata.httpStatusCode}`))).toEqual(
      new Set(['RequestLimitExceeded 503']),
    );
    // 200 draws at 50%: 100 ± 7 (one standard deviation); 60 to 140 is more than five of them.
    expect(throttled.length).toBeGreaterThan(60);
    expect(throttled.length).toBeLessThan(140);
    expect(await failure(launch(autoscaler))).toBeNull();
  });

  it('makes DynamoDB connections from the orders subnet time out under disrupt-connectivity scope dynamodb', async () => {
    const listen = (
      (await (await fetch(`${toxiproxyUrl()}/proxies/${dynamoProxy}`)).json()) as { listen: string }
    ).listen;
    const dynamo = new DynamoDBClient({ region: REGION, endpoint: `http://${listen}`, maxAttempts: 1 });
    const table = uniqueName('front-orders');
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const read = async () => {
      const started = Date.now();
      const error = await failure(
        dynamo.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'x' } } }), {
          abortSignal: AbortSignal.timeout(1_000),
        }),
      );
      return { error, tookMs: Date.now() - started };
    };
    expect((await read()).error).toBeNull();

    const id = await startFis({
      targets: {
        subnets: { resourceType: 'aws:ec2:subnet', resourceTags: { app: 'orders' }, selectionMode: 'ALL' },
      },
      actions: {
        'disrupt-dynamodb': {
          actionId: 'aws:network:disrupt-connectivity',
          parameters: { scope: 'dynamodb', duration: 'PT10M' },
          targets: { Subnets: 'subnets' },
        },
      },
    });
    const cut = await waitFor(async () => {
      const answer = await read();
      return answer.error ? answer : null;
    });
    // No answer at all, not an error from DynamoDB: the call ran into its own timeout.
    expect(cut.error?.$metadata?.httpStatusCode).toBeUndefined();
    expect(cut.tookMs).toBeGreaterThanOrEqual(950);

    await fis.send(new StopExperimentCommand({ id }));
    await waitFor(async () => (await read()).error === null, { what: 'DynamoDB to answer again' });
    const toxics = (await (
      await fetch(`${toxiproxyUrl()}/proxies/${dynamoProxy}/toxics`)
    ).json()) as unknown[];
    expect(toxics).toEqual([]);
  });

  it('carries out aws:ec2:stop-instances: the selected share stopped, started again after startInstancesAfterDuration', async () => {
    const ec2 = new EC2Client({ region: REGION, endpoint: lab.moto.url });
    const fleetTag = uniqueName('fleet');
    const launched = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        MinCount: 4,
        MaxCount: 4,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: fleetTag }] }],
      }),
    );
    const ids = (launched.Instances ?? []).map((i) => i.InstanceId ?? '');
    const states = async () => {
      const answer = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
      return (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name);
    };
    await startFis({
      targets: {
        fleet: {
          resourceType: 'aws:ec2:instance',
          resourceTags: { app: fleetTag },
          filters: [{ path: 'State.Name', values: ['running'] }],
          selectionMode: 'PERCENT(50)',
        },
      },
      actions: {
        stop: {
          actionId: 'aws:ec2:stop-instances',
          parameters: { startInstancesAfterDuration: 'PT3S' },
          targets: { Instances: 'fleet' },
        },
      },
    });
    await waitFor(async () => (await states()).filter((state) => state === 'stopped').length === 2, {
      what: 'half the fleet to be stopped',
    });
    await waitFor(async () => (await states()).every((state) => state === 'running'), {
      what: 'the fleet to run again',
    });
  });

  it("answers with the shape of AWS's own EC2 error body, which the SDK parses as AWS's", async () => {
    const fixture = await readFile('test/fixtures/aws-errors/ec2-invalid-greeting.xml', 'utf8');
    const server = createServer((_request, response) =>
      response.writeHead(400, { 'content-type': 'text/xml;charset=UTF-8' }).end(fixture),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const aws = new EC2Client({
      region: REGION,
      endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      maxAttempts: 1,
    });
    const parsed = (await failure(aws.send(new DescribeInstancesCommand({})))) as unknown as Error & {
      $metadata: { httpStatusCode?: number };
    };
    expect([parsed?.name, parsed?.message, parsed?.$metadata.httpStatusCode]).toEqual([
      'InvalidGreeting',
      'Hi',
      400,
    ]);

    const { ec2Error } = await import('../../src/lab/ec2-errors');
    const tags = (xml: string) => [...xml.matchAll(/<\/?([A-Za-z]+)/g)].map((m) => m[0]).join(' ');
    const ours = ec2Error('RequestLimitExceeded');
    expect(tags(ours.body.replace(/^<\?xml[^>]*\?>/, ''))).toBe(tags(fixture));
    // The SDK takes $metadata.requestId from EC2's x-amzn-requestid header; the body says the same.
    expect(ours.body).toContain(`<RequestID>${ours.headers['x-amzn-requestid']}</RequestID>`);
  });
});
