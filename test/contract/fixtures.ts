/**
 * How the contract suite (fault-providers.test.ts) gives each registered provider a real target on
 * the suite's servers, and sees from outside whether its fault is in place. The type makes an entry
 * for every provider in the registry a compile error to leave out; the suite fails one that is not
 * here either.
 */
import { EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { FisClient, ListExperimentsCommand, ListExperimentTemplatesCommand } from '@aws-sdk/client-fis';
import { afterAll, beforeAll } from 'vitest';
import { type MotoServer, setMotoTransition, startMoto } from '../../src/lab/moto-server';
import { freePort } from '../../src/lab/ports';
import type { FaultProviderName } from '../../src/providers';
import { type AwsLocator, awsLocator } from '../../src/providers/aws-location';
import { instanceStates, MOTO_ACCOUNT, motoUrl, REGION } from '../aws-helpers';
import { toxiproxyUrl, uniqueName } from '../helpers';
import { createZone, deleteZone, zoneRecords } from '../route53-helpers';

export interface ContractTarget {
  /** The fault as the experiment file writes it under the provider's key, on a target that exists. */
  spec: unknown;
  /** The same fault on a target that does not exist: it must be refused before anything changes. */
  missing: unknown;
  /** settings.<provider> as the file writes it, for providers with run-level settings. */
  settings?: unknown;
  /** How AWS is reached, for providers that use it. */
  aws: AwsLocator;
  maxBlastRadius: number;
  /** How many of the fault of `runId` are in place, as the target's own server reports it. */
  inPlace(runId: string): Promise<number>;
  /** What the fault would change, as the server reports it: "nothing changed" compares two. */
  world(runId: string): Promise<unknown>;
  /** Removes the target; every test runs it, passed or failed. */
  tearDown(): Promise<void>;
}

export type ContractFixtures = Record<FaultProviderName, { setUp(): Promise<ContractTarget> }>;

const noAws = awsLocator(undefined, undefined, {});
const moto = () => awsLocator({ region: REGION, endpoint: motoUrl() }, undefined, {});

async function toxiproxyApi(method: string, path: string, body?: unknown) {
  const answer = await fetch(new URL(path, toxiproxyUrl()), {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!answer.ok && answer.status !== 404) throw new Error(`toxiproxy ${method} ${path}: ${answer.status}`);
  const text = await answer.text();
  return answer.status === 404 || !text ? null : JSON.parse(text);
}

async function launch(count: number, tags: Record<string, string>, endpoint = motoUrl()): Promise<string[]> {
  const ec2 = new EC2Client({ region: REGION, endpoint });
  const launched = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [
        { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  return (launched.Instances ?? []).map((i) => i.InstanceId ?? '');
}

async function terminate(ids: string[], endpoint = motoUrl()): Promise<void> {
  await new EC2Client({ region: REGION, endpoint }).send(new TerminateInstancesCommand({ InstanceIds: ids }));
}

const ENDED = ['completed', 'stopped', 'failed', 'cancelled'];

/**
 * FIS needs a moto of its own: its experiments must run for a while before they complete, which
 * is a moto setting for the whole server (the suite's shared moto completes them at once).
 */
let fisMoto: MotoServer | undefined;
// Started for the file, not per test: a process a test starts must end with the test.
beforeAll(async () => {
  fisMoto = await startMoto(await freePort());
  // Each state lasts 4s: running long enough to be seen in place and stopped before it completes.
  await setMotoTransition(fisMoto.url, 'fis::experiment', { progression: 'time', seconds: 4 });
});
afterAll(async () => {
  await fisMoto?.stop();
});
function motoForFis(): MotoServer {
  if (!fisMoto) throw new Error('the contract suite starts its FIS moto in beforeAll');
  return fisMoto;
}

async function fisOf(endpoint: string, runId: string) {
  const fis = new FisClient({ region: REGION, endpoint });
  const experiments = (await fis.send(new ListExperimentsCommand({}))).experiments ?? [];
  const templates = (await fis.send(new ListExperimentTemplatesCommand({}))).experimentTemplates ?? [];
  const ours = (tags: Record<string, string> | undefined) => tags?.['gameday:run-id'] === runId;
  return {
    experiments: experiments
      .filter((e) => ours(e.tags))
      .map((e) => ({ id: e.id, status: e.state?.status }))
      .sort((a, b) => String(a.id).localeCompare(String(b.id))),
    templates: templates
      .filter((t) => ours(t.tags))
      .map((t) => t.id)
      .sort(),
  };
}

export const fixtures: ContractFixtures = {
  toxiproxy: {
    async setUp() {
      const proxy = uniqueName('contract');
      await toxiproxyApi('POST', '/proxies', { name: proxy, listen: '127.0.0.1:0', upstream: '127.0.0.1:9' });
      const toxicsOf = async (runId: string) => {
        const state = (await toxiproxyApi('GET', `/proxies/${proxy}`)) as {
          enabled: boolean;
          toxics: { name: string }[];
        } | null;
        return {
          enabled: state?.enabled,
          toxics: (state?.toxics ?? []).filter((t) => t.name.includes(runId)),
        };
      };
      return {
        spec: { proxy, toxic: 'latency', attributes: { latency: 100 } },
        missing: { proxy: `${proxy}-missing`, toxic: 'latency', attributes: { latency: 100 } },
        settings: { url: toxiproxyUrl() },
        aws: noAws,
        maxBlastRadius: 50,
        inPlace: async (runId) => (await toxicsOf(runId)).toxics.length,
        world: toxicsOf,
        tearDown: async () => {
          await toxiproxyApi('DELETE', `/proxies/${proxy}`);
        },
      };
    },
  },

  awsEc2: {
    async setUp() {
      const tag = uniqueName('contract');
      const ids = await launch(2, { contract: tag });
      const states = () => instanceStates(ids);
      return {
        spec: { action: 'stop', tags: { contract: tag }, selection: 'COUNT(1)', waitFor: '1m' },
        missing: { action: 'stop', tags: { contract: `${tag}-missing` }, selection: 'COUNT(1)' },
        aws: moto(),
        maxBlastRadius: 50,
        inPlace: async () => Object.values(await states()).filter((state) => state !== 'running').length,
        world: states,
        tearDown: () => terminate(ids),
      };
    },
  },

  awsFis: {
    async setUp() {
      const { url } = motoForFis();
      const tag = uniqueName('contract');
      const ids = await launch(2, { contract: tag }, url);
      const template = {
        description: 'contract: stop one instance',
        roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/gameday-fis`,
        targets: {
          fleet: {
            resourceType: 'aws:ec2:instance',
            resourceTags: { contract: tag },
            selectionMode: 'COUNT(1)',
          },
        },
        actions: {
          stop: {
            actionId: 'aws:ec2:stop-instances',
            parameters: { startInstancesAfterDuration: 'PT5M' },
            targets: { Instances: 'fleet' },
          },
        },
        stopConditions: [{ source: 'none' }],
      };
      return {
        spec: { template, waitFor: '1m' },
        missing: { templateId: 'EXT1a2b3c4d5e6f7' },
        aws: awsLocator({ region: REGION, endpoint: url }, undefined, {}),
        maxBlastRadius: 50,
        inPlace: async (runId) =>
          (await fisOf(url, runId)).experiments.filter((e) => !ENDED.includes(e.status ?? '')).length,
        world: (runId) => fisOf(url, runId),
        tearDown: () => terminate(ids, url),
      };
    },
  },

  route53: {
    async setUp() {
      const zoneName = `${uniqueName('contract')}.gameday.internal`;
      const zone = await createZone(zoneName, { private: true });
      await zone.put({
        Name: `db.${zoneName}`,
        Type: 'A',
        TTL: 5,
        ResourceRecords: [{ Value: '127.0.0.1' }],
      });
      const world = () => zoneRecords(zone.id);
      return {
        spec: { zoneName, privateZone: true, name: `db.${zoneName}`, type: 'A', waitFor: '30s' },
        missing: { zoneName, privateZone: true, name: `nothing.${zoneName}`, type: 'A' },
        aws: moto(),
        maxBlastRadius: 50,
        inPlace: async () =>
          (await world()).some((set) => set.Name === `db.${zoneName}.` && set.Type === 'A') ? 0 : 1,
        world,
        tearDown: () => deleteZone(zone.id),
      };
    },
  },
};
