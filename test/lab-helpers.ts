/**
 * What the lab tests share: a lab of their own, what its Toxiproxy and moto show over time (the
 * evidence that each phase's fault really was in place, independent of our journal), and the
 * lab's state after a run. Helpers look and return what they saw; the test files assert.
 */
import { Resolver } from 'node:dns/promises';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { FisClient, ListExperimentsCommand } from '@aws-sdk/client-fis';
import { onTestFinished } from 'vitest';
import type { BuildName } from '../src/lab/builds';
import { isAlive, type LabInfo, labDown, labEnv, labProcesses, labUp } from '../src/lab/lab';
import type { Journal } from '../src/report/journal';
import { pollUntilStopped, scratchDir, uniqueName, waitFor } from './helpers';
import { PATIENCE_MS } from './patience';

/**
 * The orders API's steady state as an experiment file writes it: a read of the seeded order and
 * a write whose acknowledged id the continuity plan reads back.
 */
export const ORDERS_STEADY_STATE = `steadyState:
  - name: orders-read
    http: { url: "\${{ env.GAMEDAY_LAB_ORDERS }}/orders/seed-1", timeout: 2s }
    sample: { every: 100ms, count: 10 }
    expect: { status: [200], errorRate: 0, latencyP99: 1s }
  - name: orders-write
    http:
      url: "\${{ env.GAMEDAY_LAB_ORDERS }}/orders"
      method: POST
      timeout: 2s
      headers: { content-type: application/json }
      body: '{"item":"gameday","quantity":1}'
      ackId: id
    sample: { every: 100ms, count: 10 }
    expect: { status: [201, 202], errorRate: 0, latencyP99: 1s }`;

export async function startLab(build: BuildName): Promise<LabInfo> {
  const home = await scratchDir(`lab-${build}`);
  const lab = await labUp({ home, build, timeoutMs: PATIENCE_MS });
  onTestFinished(async () => {
    await labDown({ home });
  });
  return lab;
}

/** The environment a CLI run (or worker) needs to use this lab, on a task queue of its own. */
export function labCliEnv(lab: LabInfo): Record<string, string> {
  return { ...labEnv(lab), GAMEDAY_TASK_QUEUE: uniqueName('lab') };
}

interface ProxyView {
  name: string;
  enabled: boolean;
  toxics: { type: string; toxicity: number }[];
}

export interface Observation {
  /** When the look's answers were all in: what it saw was so at some moment between `sentAt` and this. */
  at: number;
  sentAt: number;
  proxies: Record<string, ProxyView>;
  /** moto's view of the orders fleet: instance id → state. */
  fleet: Record<string, string>;
  /** What the lab's DNS server answers for DynamoDB's name: its addresses, or the error code. */
  dynamodbName: string;
  /** The gameday faults whose FIS experiment the lab's AWS front reports running. */
  fisRunning: string[];
}

/** Polls the lab's Toxiproxy, moto, DNS server and AWS front until stopped: what was really injected, and when. */
export function observeLab(lab: LabInfo, everyMs = 100) {
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: lab.endpoints.moto });
  // Through the front: it reports an experiment running as FIS would, which moto alone does not.
  const fis = new FisClient({
    region: 'us-east-1',
    endpoint: lab.endpoints.aws,
    credentials: { accessKeyId: 'lab-observer', secretAccessKey: 'lab-observer' },
  });
  const resolver = new Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers([lab.endpoints.dns]);
  return pollUntilStopped(everyMs, async (): Promise<Observation> => {
    const sentAt = Date.now();
    const [proxies, instances, dynamodbName, experiments] = await Promise.all([
      fetch(`${lab.endpoints.toxiproxy}/proxies`).then((r) => r.json() as Promise<Record<string, ProxyView>>),
      ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:app', Values: ['orders'] }] })),
      resolver.resolve4(lab.dnsZone.dynamodb).then(
        (addresses) => addresses.join(','),
        (error: NodeJS.ErrnoException) => error.code ?? 'error',
      ),
      fis.send(new ListExperimentsCommand({})),
    ]);
    const fleet = Object.fromEntries(
      (instances.Reservations ?? [])
        .flatMap((r) => r.Instances ?? [])
        .map((i) => [i.InstanceId ?? '', i.State?.Name ?? '']),
    );
    const fisRunning = (experiments.experiments ?? [])
      .filter((e) => e.state?.status === 'running')
      .map((e) => e.tags?.['gameday:fault'] ?? '')
      .filter(Boolean);
    return { at: Date.now(), sentAt, proxies, fleet, dynamodbName, fisRunning };
  });
}

const toxic =
  (type: string, toxicity?: number) =>
  (proxy: ProxyView | undefined): boolean =>
    proxy?.toxics.some((t) => t.type === type && (toxicity === undefined || t.toxicity === toxicity)) ??
    false;
const someStopped = (o: Observation) => Object.values(o.fleet).some((state) => state === 'stopped');
const fisRuns = (fault: string) => (o: Observation) => o.fisRunning.includes(fault);

/** What each replay fault looks like from the servers, not from the journal. */
export const FAULT_SIGNS: Record<string, (o: Observation) => boolean> = {
  // The record set emptied: the lab's DNS server has no address for the name.
  'dynamodb-name-void': (o) => o.dynamodbName === 'ENODATA' || o.dynamodbName === 'ENOTFOUND',
  // FIS experiments: the AWS front reports them running (and so makes them take effect).
  'ec2-launches-fail': fisRuns('ec2-launches-fail'),
  'hosts-lost': fisRuns('hosts-lost'),
  'network-propagation-stalls': (o) => toxic('timeout')(o.proxies['network-manager']),
  'capacity-churns': someStopped,
  'health-checks-flap': (o) => toxic('reset_peer')(o.proxies['health-checks']),
  'ec2-api-throttled-100': fisRuns('ec2-api-throttled-100'),
  'ec2-api-throttled-50': fisRuns('ec2-api-throttled-50'),
  'ec2-api-throttled-10': fisRuns('ec2-api-throttled-10'),
};
/** Stopped instances look alike whichever fault stopped them: only their own window is checked. */
const SHARED_SIGNS = new Set(['capacity-churns']);
/** A look is stamped when its requests leave: one this close to a window's edge may see either side. */
const EDGE_MS = 300;
/**
 * The lab's DNS server answers from a copy of the zone refreshed every 250ms, and the AWS front
 * follows moto's experiments every 300ms: their signs trail the change by up to that much more.
 */
const TRAILING_MS: Record<string, number> = {
  'dynamodb-name-void': 250,
  'ec2-launches-fail': 300,
  'hosts-lost': 300,
  'ec2-api-throttled-100': 300,
  'ec2-api-throttled-50': 300,
  'ec2-api-throttled-10': 300,
};

export interface FaultSightings {
  /** Per fault, how many looks inside its window (injected to reverted) showed it on the servers. */
  inWindow: Record<string, number>;
  /** Per fault, looks that showed it before its handle was recorded or after it was reverted. */
  outsideWindow: Record<string, number>;
  /** Looks taken before the first phase started, and how many of those showed any fault. */
  before: number;
  faultyBefore: number;
}

/** Where the servers showed each fault, against the journal's own window of it. */
export function faultSightings(journal: Journal, seen: Observation[]): FaultSightings {
  const inWindow: Record<string, number> = {};
  const outsideWindow: Record<string, number> = {};
  const first = journal.phases[0]?.startedAt ?? 0;
  for (const fault of journal.faults) {
    const name = fault.handle.name;
    const sign = FAULT_SIGNS[name];
    if (!sign) throw new Error(`no observation rule for fault ${name}`);
    const from = fault.injectedAt ?? Number.POSITIVE_INFINITY;
    const to = fault.revertedAt ?? Number.POSITIVE_INFINITY;
    inWindow[name] = seen.filter((o) => o.at >= from && o.at <= to && sign(o)).length;
    if (SHARED_SIGNS.has(name)) continue;
    // Too early: the look's answers were all in before the handle was recorded (the inject runs
    // after that; injectedAt is taken once the server answered, a while after the change on a busy
    // worker). Too late: the look was sent after the revert was seen to have taken effect.
    const edge = EDGE_MS + (TRAILING_MS[name] ?? 0);
    outsideWindow[name] = seen.filter(
      (o) => o.at >= first && (o.at < fault.recordedAt - EDGE_MS || o.sentAt > to + edge) && sign(o),
    ).length;
  }
  const before = seen.filter((o) => o.at < first);
  return {
    inWindow,
    outsideWindow,
    before: before.length,
    faultyBefore: before.filter((o) => Object.values(FAULT_SIGNS).some((sign) => sign(o))).length,
  };
}

/** The lab as its servers show it: proxies with a toxic or disabled, the fleet in moto and in the lab. */
export interface LabState {
  dirtyProxies: string[];
  /** Orders instances moto has, not terminated, and those of them running. */
  instances: number;
  running: string[];
  /** Instances with a process and a network in the lab. */
  serving: string[];
  /** The instances' own ingress proxies. */
  instanceProxies: string[];
}

export async function labState(lab: LabInfo): Promise<LabState> {
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: lab.endpoints.moto });
  const proxies = (await fetch(`${lab.endpoints.toxiproxy}/proxies`).then((r) => r.json())) as Record<
    string,
    ProxyView
  >;
  const answer = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: 'tag:app', Values: ['orders'] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    }),
  );
  const instances = (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  const status = (await fetch(`${lab.endpoints.admin}/lab/status`).then((r) => r.json())) as {
    fleet: { id: string; running: boolean; networked: boolean }[];
  };
  return {
    dirtyProxies: Object.values(proxies)
      .filter((p) => !p.enabled || p.toxics.length > 0)
      .map((p) => p.name)
      .sort(),
    instances: instances.length,
    running: instances
      .filter((i) => i.State?.Name === 'running')
      .map((i) => i.InstanceId ?? '')
      .sort(),
    serving: status.fleet
      .filter((m) => m.running && m.networked)
      .map((m) => m.id)
      .sort(),
    instanceProxies: Object.keys(proxies)
      .filter((name) => name.startsWith('orders-'))
      .sort(),
  };
}

/**
 * No toxic, every proxy enabled, and the fleet back to its size: the same instances running in
 * moto, with a process and a network in the lab, and a proxy each (no more, no fewer).
 */
export function restoredState(lab: Pick<LabInfo, 'size'>, running: string[]): LabState {
  return {
    dirtyProxies: [],
    instances: lab.size,
    running,
    serving: running,
    instanceProxies: running.map((id) => `orders-${id}`),
  };
}

const isRestored = (lab: LabInfo, state: LabState) =>
  state.running.length === lab.size &&
  JSON.stringify(state) === JSON.stringify(restoredState(lab, state.running));

/** Waits until the lab is restored (the fleet reconciles after a run); returns the last state seen either way. */
export async function settledLabState(lab: LabInfo): Promise<LabState> {
  let last: LabState | undefined;
  try {
    return await waitFor(
      async () => {
        last = await labState(lab);
        return isRestored(lab, last) ? last : null;
      },
      {
        what: () => `the lab to be restored; last seen: ${JSON.stringify(last)}`,
        intervalMs: 200,
      },
    );
  } catch (error) {
    if (last) return last;
    throw error;
  }
}

/** Takes the lab down: the processes it had (supervisor, servers, instances) and those still alive after. */
export async function takeLabDown(lab: LabInfo): Promise<{ processes: number[]; left: number[] }> {
  const processes = labProcesses(lab.pid);
  await labDown({ home: lab.home });
  const gone = () => processes.every((pid) => !isAlive(pid));
  await waitFor(gone, { what: 'every lab process to end' }).catch(() => undefined);
  return { processes, left: processes.filter(isAlive) };
}
