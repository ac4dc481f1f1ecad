/**
 * The fleet: every moto EC2 instance tagged app=orders that is running has an `orders` process,
 * and one that is not has none, reconciled continuously. This is the lab's hypervisor, so it
 * reads EC2 directly, not through the `ec2-api` proxy that the autoscaler's calls go through.
 *
 * Each instance has its own ingress, a Toxiproxy proxy whose address stays the instance's for
 * its whole life (as an instance keeps its IP while stopped). A (re)started instance's ingress
 * stays closed until the network manager (through the `network-manager` proxy) has propagated its
 * network, as on October 20 when that propagation fell hours behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { DescribeInstancesCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { PROJECT_ROOT } from '../tools';
import type { BuildName } from './builds';
import type { LoadBalancer } from './load-balancer';

export interface FleetOptions {
  build: BuildName;
  motoUrl: string;
  toxiproxyUrl: string;
  /** The DynamoDB endpoint the instances use: the `dynamodb` proxy. */
  dynamodbEndpoint: string;
  /** The network manager, through the `network-manager` proxy. */
  networkManagerUrl: string;
  loadBalancer: LoadBalancer;
  log: (line: string) => void;
}

interface Member {
  id: string;
  /** host:port of its ingress proxy, kept while the instance exists. */
  ingress: string;
  proxy: string;
  process: ChildProcess | null;
  /** host:port the instance's process listens on, once it has one. */
  upstream: string;
  startedAt: number;
  networked: boolean;
}

export const ORDERS_TAG = { Key: 'app', Value: 'orders' };
const RECONCILE_EVERY_MS = 200;
const CALL_TIMEOUT_MS = 5_000;
/** Where a stopped instance's ingress leads: nothing listens there, so connections are refused. */
const NOWHERE = '127.0.0.1:1';

export class Fleet {
  private readonly members = new Map<string, Member>();
  private readonly ec2: EC2Client;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private busy = false;

  constructor(private readonly options: FleetOptions) {
    this.ec2 = new EC2Client({
      region: 'us-east-1',
      endpoint: options.motoUrl,
      credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
    });
  }

  start(): void {
    this.running = true;
    this.timer = setInterval(() => void this.reconcile(), RECONCILE_EVERY_MS);
  }

  snapshot() {
    return [...this.members.values()].map(
      ({ id, ingress, proxy, process, networked, startedAt, upstream }) => ({
        id,
        ingress,
        proxy,
        upstream,
        running: process !== null,
        networked,
        startedAt,
      }),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    while (this.busy) await new Promise((resolve) => setTimeout(resolve, 20));
    await Promise.all([...this.members.values()].map((m) => this.halt(m)));
  }

  private async reconcile(): Promise<void> {
    if (this.busy || !this.running) return;
    this.busy = true;
    try {
      const states = new Map(
        (await this.describe()).map((i) => [i.InstanceId ?? '', i.State?.Name ?? 'unknown']),
      );
      for (const [id, state] of states) {
        const member = this.members.get(id);
        if (state === 'running' && !member?.process) await this.boot(id, member);
      }
      for (const member of [...this.members.values()]) {
        const state = states.get(member.id) ?? 'terminated';
        if (state !== 'running' && member.process) await this.halt(member);
        if (state === 'terminated' || state === 'shutting-down') await this.forget(member);
      }
      await Promise.all(
        [...this.members.values()].filter((m) => m.process && !m.networked).map((m) => this.propagate(m)),
      );
    } catch (error) {
      this.options.log(`fleet: reconcile failed: ${(error as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  /** The orders instances that exist (not terminated), every page of them. */
  private async describe(): Promise<Instance[]> {
    const instances: Instance[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: `tag:${ORDERS_TAG.Key}`, Values: [ORDERS_TAG.Value] },
            {
              Name: 'instance-state-name',
              Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'],
            },
          ],
          NextToken,
        }),
        { abortSignal: AbortSignal.timeout(CALL_TIMEOUT_MS) },
      );
      instances.push(...(page.Reservations ?? []).flatMap((r) => r.Instances ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return instances;
  }

  /** Starts the instance's process; its ingress opens once the network manager has answered. */
  private async boot(id: string, known: Member | undefined): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/lab/orders-instance.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        INSTANCE_ID: id,
        BUILD: this.options.build,
        DYNAMODB_ENDPOINT: this.options.dynamodbEndpoint,
      },
      // The IPC channel tells the instance its port is bound, and closes if this process dies.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let port: number;
    try {
      port = await boundPort(child);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    const upstream = `127.0.0.1:${port}`;
    let member = known;
    if (!member) {
      // Enabled from the start so Toxiproxy binds a port now and keeps it; until the network
      // manager answers, the ingress leads nowhere.
      const proxy = `orders-${id}`;
      const created = (await this.toxiproxy('POST', '/proxies', {
        name: proxy,
        listen: '127.0.0.1:0',
        upstream: NOWHERE,
        enabled: true,
      })) as { listen: string };
      member = {
        id,
        ingress: created.listen,
        proxy,
        process: null,
        upstream,
        startedAt: 0,
        networked: false,
      };
      this.members.set(id, member);
      this.options.loadBalancer.register(id, created.listen);
    }
    Object.assign(member, { process: child, upstream, startedAt: Date.now(), networked: false });
    const booted = member;
    child.once('exit', () => {
      if (booted.process === child) Object.assign(booted, { process: null, networked: false });
    });
    this.options.log(`fleet: ${id} started on ${port}, ingress ${member.ingress} waiting for its network`);
  }

  /** Asks the network manager for the instance's network; its ingress opens only when it answers. */
  private async propagate(member: Member): Promise<void> {
    try {
      const answer = await fetch(`${this.options.networkManagerUrl}/propagate/${member.id}`, {
        method: 'POST',
        signal: AbortSignal.timeout(500),
      });
      await answer.arrayBuffer();
      if (!answer.ok) return;
      await this.toxiproxy('POST', `/proxies/${member.proxy}`, { upstream: member.upstream, enabled: true });
      member.networked = true;
      this.options.log(`fleet: ${member.id} has its network`);
    } catch {
      // The network manager is behind: try again on the next pass.
    }
  }

  /** A stopped instance: its process ends, its ingress stays but leads nowhere. */
  private async halt(member: Member): Promise<void> {
    const child = member.process;
    Object.assign(member, { process: null, networked: false });
    if (child) await stopChild(child);
    await this.toxiproxy('POST', `/proxies/${member.proxy}`, { upstream: NOWHERE, enabled: true }).catch(
      () => undefined,
    );
    this.options.log(`fleet: ${member.id} stopped`);
  }

  /** A terminated instance: its ingress goes, and the load balancer forgets it (as an ASG detaches it). */
  private async forget(member: Member): Promise<void> {
    this.members.delete(member.id);
    this.options.loadBalancer.deregister(member.id);
    await this.toxiproxy('DELETE', `/proxies/${member.proxy}`).catch(() => undefined);
    this.options.log(`fleet: ${member.id} terminated`);
  }

  private async toxiproxy(method: string, path: string, body?: unknown): Promise<unknown> {
    const answer = await fetch(`${this.options.toxiproxyUrl}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    const text = await answer.text();
    if (!answer.ok && answer.status !== 404)
      throw new Error(`toxiproxy ${method} ${path}: ${answer.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
}

/** The port an instance bound (it listens on port 0 and says which): no window for another to take it. */
function boundPort(child: ChildProcess, timeoutMs = 20_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the orders instance did not start in time')), timeoutMs);
    child.once('message', (message: { port?: number }) => {
      clearTimeout(timer);
      if (message.port) resolve(message.port);
      else reject(new Error('the orders instance reported no port'));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the orders instance exited with ${code} before listening`));
    });
  });
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
