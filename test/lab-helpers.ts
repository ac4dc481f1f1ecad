/**
 * What the lab tests share: a lab of their own, what its Toxiproxy and moto show over time (the
 * evidence that each phase's fault really was in place, independent of our journal), and the end
 * state a lab must be back in after a run.
 */
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { expect, onTestFinished } from 'vitest';
import type { BuildName } from '../src/lab/builds';
import { isAlive, type LabInfo, labDown, labEnv, labProcesses, labUp } from '../src/lab/lab';
import type { Journal } from '../src/report/journal';
import { pollUntilStopped, scratchDir, uniqueName, waitFor } from './helpers';

export async function startLab(build: BuildName): Promise<LabInfo> {
  const home = await scratchDir(`lab-${build}`);
  const lab = await labUp({ home, build });
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
  at: number;
  proxies: Record<string, ProxyView>;
  /** moto's view of the orders fleet: instance id → state. */
  fleet: Record<string, string>;
}

/** Polls the lab's Toxiproxy and moto until stopped: what was really injected, and when. */
export function observeLab(lab: LabInfo, everyMs = 100) {
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: lab.endpoints.moto });
  return pollUntilStopped(everyMs, async (): Promise<Observation> => {
    const [proxies, instances] = await Promise.all([
      fetch(`${lab.endpoints.toxiproxy}/proxies`).then((r) => r.json() as Promise<Record<string, ProxyView>>),
      ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:app', Values: ['orders'] }] })),
    ]);
    const fleet = Object.fromEntries(
      (instances.Reservations ?? [])
        .flatMap((r) => r.Instances ?? [])
        .map((i) => [i.InstanceId ?? '', i.State?.Name ?? '']),
    );
    return { at: Date.now(), proxies, fleet };
  });
}

const toxic = (type: string) => (proxy: ProxyView | undefined) =>
  proxy?.toxics.some((t) => t.type === type) ?? false;
const someStopped = (o: Observation) => Object.values(o.fleet).some((state) => state === 'stopped');

/** What each replay phase's fault looks like from the servers, not from the journal. */
export const PHASE_FAULTS: Record<string, (o: Observation) => boolean> = {
  'dns-void': (o) => o.proxies.dynamodb?.enabled === false,
  'lease-collapse': (o) => toxic('reset_peer')(o.proxies['ec2-api']) && someStopped(o),
  'network-backlog': (o) => toxic('timeout')(o.proxies['network-manager']) && someStopped(o),
  'nlb-health-flapping': (o) => toxic('reset_peer')(o.proxies['health-checks']),
  'throttled-100': (o) => toxic('latency')(o.proxies['ec2-api']) && someStopped(o),
  'throttled-50': (o) => toxic('latency')(o.proxies['ec2-api']),
  'throttled-10': (o) => toxic('latency')(o.proxies['ec2-api']),
};

/** Every phase's fault was seen on the servers inside that phase's window, and not outside all windows. */
export function expectFaultsInTheirWindows(journal: Journal, seen: Observation[]): void {
  for (const phase of journal.phases) {
    const active = PHASE_FAULTS[phase.name];
    if (!active) throw new Error(`no observation rule for phase ${phase.name}`);
    const inWindow = seen.filter(
      (o) => o.at >= phase.startedAt && o.at <= (phase.endedAt ?? Number.POSITIVE_INFINITY),
    );
    expect(
      inWindow.filter(active).length,
      `${phase.name}: fault seen on the servers during the phase`,
    ).toBeGreaterThan(2);
  }
  const first = journal.phases[0]?.startedAt ?? 0;
  const before = seen.filter((o) => o.at < first);
  expect(before.length).toBeGreaterThan(0);
  expect(before.some((o) => Object.values(PHASE_FAULTS).some((active) => active(o)))).toBe(false);
}

/**
 * No toxic, every proxy enabled, and the fleet back to its size: the same instances running in
 * moto, with a process and a network in the lab, and a proxy each (no more, no fewer).
 */
export async function expectLabRestored(lab: LabInfo): Promise<void> {
  const ec2 = new EC2Client({ region: 'us-east-1', endpoint: lab.endpoints.moto });
  await waitFor(
    async () => {
      const proxies = (await fetch(`${lab.endpoints.toxiproxy}/proxies`).then((r) => r.json())) as Record<
        string,
        ProxyView
      >;
      const clean = Object.values(proxies).every((p) => p.enabled && p.toxics.length === 0);
      const answer = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag:app', Values: ['orders'] },
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
        }),
      );
      const instances = (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []);
      const running = instances
        .filter((i) => i.State?.Name === 'running')
        .map((i) => i.InstanceId ?? '')
        .sort();
      const status = (await fetch(`${lab.endpoints.admin}/lab/status`).then((r) => r.json())) as {
        fleet: { id: string; running: boolean; networked: boolean }[];
      };
      const serving = status.fleet
        .filter((m) => m.running && m.networked)
        .map((m) => m.id)
        .sort();
      const instanceProxies = Object.keys(proxies)
        .filter((name) => name.startsWith('orders-'))
        .sort();
      return (
        clean &&
        instances.length === lab.size &&
        running.length === lab.size &&
        JSON.stringify(serving) === JSON.stringify(running) &&
        JSON.stringify(instanceProxies) === JSON.stringify(running.map((id) => `orders-${id}`))
      );
    },
    {
      what: 'no toxics, every proxy enabled and the fleet back to its size',
      timeoutMs: 30_000,
      intervalMs: 200,
    },
  );
}

/** Takes the lab down and checks that none of its processes is left. */
export async function expectLabGone(lab: LabInfo): Promise<void> {
  // The supervisor, Temporal, Toxiproxy, moto and every orders instance.
  const processes = labProcesses(lab.pid);
  expect(processes.length).toBeGreaterThanOrEqual(4 + lab.size);
  await labDown({ home: lab.home });
  await waitFor(() => processes.every((pid) => !isAlive(pid)), {
    what: 'every lab process to end',
    timeoutMs: 10_000,
  });
}
