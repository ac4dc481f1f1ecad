/**
 * AWS for the tests: moto (EC2, FIS, STS) and dynalite (DynamoDB) from globalSetup, instances to
 * act on, their states as moto reports them, and an error-injecting hop in front of moto for the
 * answers moto never gives (throttling, 5xx, access denied).
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateExperimentTemplateCommand,
  type CreateExperimentTemplateCommandInput,
  FisClient,
  ListExperimentsCommand,
  ListExperimentTemplatesCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from '@aws-sdk/client-fis';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, inject, onTestFinished } from 'vitest';
import { AwsFront, type AwsFrontOptions, LAB_FIS_TRANSITION } from '../src/lab/aws-front';
import { type MotoServer, setMotoTransition, startMoto } from '../src/lab/moto-server';
import { freePort } from '../src/lab/ports';
import { pollUntilStopped } from './helpers';

export const motoUrl = () => inject('motoUrl');
export const dynamoUrl = () => inject('dynamoUrl');
export const REGION = 'us-east-1';
/** The account moto answers STS GetCallerIdentity with. */
export const MOTO_ACCOUNT = '123456789012';

export function awsSettings(endpoint = motoUrl()) {
  return { region: REGION, endpoint, endpoints: { dynamodb: dynamoUrl() } };
}

const ec2 = (endpoint: string) => new EC2Client({ region: REGION, endpoint });

/** Launches instances carrying the given tags; they are terminated when the test ends. */
export async function launchInstances(count: number, tags: Record<string, string>, endpoint = motoUrl()) {
  const launched = await ec2(endpoint).send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [
        { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  const ids = (launched.Instances ?? []).map((i) => i.InstanceId ?? '');
  onTestFinished(async () => {
    await ec2(endpoint).send(new TerminateInstancesCommand({ InstanceIds: ids }));
  });
  return ids;
}

export async function instanceStates(ids: string[], endpoint = motoUrl()): Promise<Record<string, string>> {
  const answer = await ec2(endpoint).send(new DescribeInstancesCommand({ InstanceIds: ids }));
  const instances = (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  return Object.fromEntries(instances.map((i) => [i.InstanceId ?? '', i.State?.Name ?? 'unknown']));
}

/** Every state moto reported for the instances, polled until stopped. */
export function observeInstances(ids: string[], endpoint = motoUrl(), everyMs = 100) {
  return pollUntilStopped(everyMs, async () => ({
    at: Date.now(),
    states: await instanceStates(ids, endpoint),
  }));
}

export async function fisExperiments(endpoint = motoUrl()) {
  const answer = await new FisClient({ region: REGION, endpoint }).send(new ListExperimentsCommand({}));
  return answer.experiments ?? [];
}

export async function fisTemplates(endpoint = motoUrl()) {
  const answer = await new FisClient({ region: REGION, endpoint }).send(
    new ListExperimentTemplatesCommand({}),
  );
  return answer.experimentTemplates ?? [];
}

export interface ErrorRule {
  /** The EC2 Action (query protocol) or the FIS path to fail, e.g. 'StopInstances'. */
  action: string;
  /** How many matching requests get the error; later ones pass through. */
  times: number;
  status: number;
  code: string;
  /** Only the permission checks (DryRun=true), or only the real calls; both when absent. */
  dryRun?: boolean;
}

/**
 * An HTTP hop in front of moto: `answer` may answer a request itself (it gets the whole body) and
 * returns whether it did; every other request goes on to moto as it came. Closed when the test ends.
 */
export async function hopToMoto(
  answer: (request: IncomingMessage, body: Buffer, response: ServerResponse) => boolean,
  target = motoUrl(),
): Promise<string> {
  const upstream = new URL(target);
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      if (answer(request, body, response)) return;
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: request.url,
          method: request.method,
          headers: request.headers,
        },
        (answered) => {
          response.writeHead(answered.statusCode ?? 502, answered.headers);
          answered.pipe(response);
        },
      );
      forward.on('error', () => response.writeHead(502).end());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/**
 * An HTTP hop between the SDK and moto that answers chosen EC2 actions with AWS errors a given
 * number of times, then lets them through. It records every action it saw, in order.
 */
export async function awsErrorProxy(rules: ErrorRule[], target = motoUrl()) {
  const seen: string[] = [];
  const remaining = rules.map((rule) => ({ ...rule }));
  const url = await hopToMoto((request, body, response) => {
    const params = new URLSearchParams(body.toString());
    const action = params.get('Action') ?? `${request.method} ${request.url}`;
    const dryRun = params.get('DryRun') === 'true';
    seen.push(dryRun ? `${action} (DryRun)` : action);
    const rule = remaining.find(
      (r) => r.action === action && r.times > 0 && (r.dryRun === undefined || r.dryRun === dryRun),
    );
    if (!rule) return false;
    rule.times--;
    response
      .writeHead(rule.status, { 'content-type': 'text/xml' })
      .end(
        `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${rule.code}</Code>` +
          `<Message>injected by the test: ${rule.code}</Message></Error></Errors><RequestID>test</RequestID></Response>`,
      );
    return true;
  }, target);
  return { url, seen };
}

/**
 * A moto server of the test file's own (its FIS state manager set as the lab sets it) and the
 * lab's AWS front before it, both stopped after the file. `prepare` readies moto before the front
 * is made (subnets to tag, proxies to name) and returns the front's further options.
 */
export function useMotoAndFront(
  prepare: (motoUrl: string) => Promise<Partial<AwsFrontOptions>> = async () => ({}),
): { readonly moto: MotoServer; readonly front: AwsFront; readonly frontUrl: string } {
  let started: { moto: MotoServer; front: AwsFront; frontUrl: string } | undefined;
  beforeAll(async () => {
    const moto = await startMoto(await freePort());
    await setMotoTransition(moto.url, 'fis::experiment', LAB_FIS_TRANSITION);
    const front = new AwsFront({ motoUrl: moto.url, pollEveryMs: 250, ...(await prepare(moto.url)) });
    started = { moto, front, frontUrl: await front.listen() };
  });
  afterAll(async () => {
    await started?.front.close();
    await started?.moto.stop();
  });
  const get = () => {
    if (!started) throw new Error('useMotoAndFront: moto and the front exist once the tests run');
    return started;
  };
  return {
    get moto() {
      return get().moto;
    },
    get front() {
      return get().front;
    },
    get frontUrl() {
      return get().frontUrl;
    },
  };
}

/** Credentials of an IAM role, from moto's STS, as the lab's services hold them. */
export async function roleCredentials(motoEndpoint: string, roleArn: string, session: string) {
  const assumed = await new STSClient({ region: REGION, endpoint: motoEndpoint }).send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: session }),
  );
  const { AccessKeyId, SecretAccessKey, SessionToken } = assumed.Credentials ?? {};
  return {
    accessKeyId: AccessKeyId ?? '',
    secretAccessKey: SecretAccessKey ?? '',
    sessionToken: SessionToken,
  };
}

/** A template as the FIS console or CLI would create it, started in moto; stopped when the test ends. */
export async function startFisExperiment(
  fis: FisClient,
  template: Omit<CreateExperimentTemplateCommandInput, 'roleArn' | 'stopConditions' | 'description'>,
): Promise<string> {
  const created = await fis.send(
    new CreateExperimentTemplateCommand({
      description: 'gameday test',
      roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/gameday-fis`,
      stopConditions: [{ source: 'none' }],
      ...template,
    }),
  );
  const started = await fis.send(
    new StartExperimentCommand({ experimentTemplateId: created.experimentTemplate?.id }),
  );
  const id = started.experiment?.id ?? '';
  onTestFinished(async () => {
    await fis.send(new StopExperimentCommand({ id }));
  });
  return id;
}
