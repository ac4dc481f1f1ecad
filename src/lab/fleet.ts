/**
 * The fleet: every moto EC2 instance tagged app=orders that is running has an `orders` process,
 * and one that is not has none, reconciled continuously. This is the lab's hypervisor, so it
 * reads EC2 directly, not through the `ec2-api` proxy that the autoscaler's calls go through.
 *
 * Each process gets its own ingress, a Toxiproxy proxy, created disabled: a new instance has no
 * network until the network manager (reached through the `network-manager` proxy) has propagated
 * its state, as on October 20 when that propagation fell hours behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PROJECT_ROOT } from '../tools';
import type { BuildName } from './builds';
import type { LoadBalancer } from './load-balancer';
import { freePort } from './ports';

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
  process: ChildProcess;
  port: number;
  proxy: string;
  listen: string;
  networked: boolean;
}

export const ORDERS_TAG = { Key: 'app', Value: 'orders' };
const RECONCILE_EVERY_MS = 200;

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

  /** The processes this fleet runs, for `lab status` and for making sure none is left. */
  pids(): number[] {
    return [...this.members.values()].flatMap((m) => (m.process.pid ? [m.process.pid] : []));
  }

  snapshot() {
    return [...this.members.values()].map(({ id, port, proxy, networked }) => ({
      id,
      port,
      proxy,
      networked,
    }));
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    while (this.busy) await new Promise((resolve) => setTimeout(resolve, 20));
    await Promise.all([...this.members.keys()].map((id) => this.remove(id)));
  }

  private async reconcile(): Promise<void> {
    if (this.busy || !this.running) return;
    this.busy = true;
    try {
      const answer = await this.ec2.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: `tag:${ORDERS_TAG.Key}`, Values: [ORDERS_TAG.Value] }],
        }),
      );
      const states = new Map(
        (answer.Reservations ?? [])
          .flatMap((r) => r.Instances ?? [])
          .map((i) => [i.InstanceId ?? '', i.State?.Name ?? 'unknown']),
      );
      for (const [id, state] of states) {
        if (state === 'running' && !this.members.has(id)) await this.add(id);
      }
      for (const id of [...this.members.keys()]) {
        const state = states.get(id);
        if (state !== 'running') {
          await this.remove(id);
          // A stopped instance stays in the load balancer's target group, failing its checks; a
          // terminated one is deregistered, as an Auto Scaling group detaches what it terminates.
          if (state !== 'stopped' && state !== 'stopping') this.options.loadBalancer.deregister(id);
        }
      }
      await Promise.all([...this.members.values()].filter((m) => !m.networked).map((m) => this.propagate(m)));
    } catch (error) {
      this.options.log(`fleet: reconcile failed: ${(error as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  private async add(id: string): Promise<void> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/lab/orders-instance.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        INSTANCE_ID: id,
        BUILD: this.options.build,
        DYNAMODB_ENDPOINT: this.options.dynamodbEndpoint,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const listen = `127.0.0.1:${await freePort()}`;
    const proxy = `orders-${id}`;
    await this.toxiproxy('POST', '/proxies', {
      name: proxy,
      listen,
      upstream: `127.0.0.1:${port}`,
      enabled: false,
    });
    this.members.set(id, { id, process: child, port, proxy, listen, networked: false });
    this.options.loadBalancer.register(id, listen);
    this.options.log(`fleet: ${id} started on ${port}, ingress ${listen} waiting for its network`);
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
      await this.toxiproxy('POST', `/proxies/${member.proxy}`, { enabled: true });
      member.networked = true;
      this.options.log(`fleet: ${member.id} has its network`);
    } catch {
      // The network manager is behind: try again on the next pass.
    }
  }

  private async remove(id: string): Promise<void> {
    const member = this.members.get(id);
    if (!member) return;
    this.members.delete(id);
    await stopChild(member.process);
    await this.toxiproxy('DELETE', `/proxies/${member.proxy}`).catch(() => undefined);
    this.options.log(`fleet: ${id} stopped`);
  }

  private async toxiproxy(method: string, path: string, body?: unknown): Promise<void> {
    const answer = await fetch(`${this.options.toxiproxyUrl}${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await answer.arrayBuffer();
    if (!answer.ok && answer.status !== 404) throw new Error(`toxiproxy ${method} ${path}: ${answer.status}`);
  }
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 2_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
