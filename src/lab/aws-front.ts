/**
 * The lab's AWS endpoint: an HTTP hop in front of moto that makes running FIS experiments take
 * effect, as they would in AWS, on what the lab's services see. moto keeps the experiments but
 * injects nothing; this front reads them (moto's ListExperiments every `pollEveryMs`, and each
 * experiment's actions once) and, while an action runs (fis-lifecycle.ts):
 *
 *   - answers EC2 calls from the roles it targets with EC2's own errors (ec2-errors.ts):
 *     InsufficientInstanceCapacity, RequestLimitExceeded, ServiceUnavailable, InternalError;
 *   - with `aws:network:disrupt-connectivity` scope `dynamodb` on the lab's orders subnet, stops
 *     every byte on the lab's DynamoDB proxy (a Toxiproxy `timeout` toxic of 0: connections hang
 *     and time out, as behind FIS's network ACL), and lifts it when the action ends;
 *   - carries out `aws:ec2:stop-instances` (fis-stop-instances.ts).
 *
 * Who calls: the SigV4 access key of the request, as moto's STS GetCallerIdentity names it (an
 * assumed role's session ARN for credentials from AssumeRole), so an FIS target `aws:iam:role`
 * names the lab's autoscaler by its role ARN. It also reports FIS's own lifecycle in the FIS
 * answers it passes on (running until stopped or until every action is done), which moto's state
 * manager cannot express; the lab sets moto never to move an experiment by itself.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { buffer } from 'node:stream/consumers';
import {
  DescribeAvailabilityZonesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  type Filter,
} from '@aws-sdk/client-ec2';
import { FisClient, GetExperimentCommand, ListExperimentsCommand } from '@aws-sdk/client-fis';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ec2Error } from './ec2-errors';
import {
  type ActionWindow,
  actionStatus,
  actionWindows,
  activeActions,
  type FisExperimentView,
  type LabStatus,
  labStatus,
} from './fis-lifecycle';
import { InstanceStopper } from './fis-stop-instances';
import { EC2_API_ACTIONS, ec2Fault, type ResolvedAction, roleKey, select } from './fis-targets';

export interface AwsFrontOptions {
  motoUrl: string;
  region?: string;
  /** The lab's DynamoDB path: the Toxiproxy proxy the orders instances reach it by, and their subnet. */
  dynamodb?: { toxiproxyUrl: string; proxy: string; subnetId: string };
  pollEveryMs?: number;
  random?: () => number;
  log?: (line: string) => void;
}

/**
 * How the lab sets moto's FIS state manager: an experiment never moves by itself (moto's other
 * settings move it on a clock or on reads, whatever its actions), so the front's lifecycle is
 * the one that counts; StopExperiment still marks it stopping.
 */
export const LAB_FIS_TRANSITION = { progression: 'manual', times: 1_000_000_000 };

/** moto's own credentials for the front's reads: moto accepts any. */
const FRONT_CREDENTIALS = { accessKeyId: 'lab-aws-front', secretAccessKey: 'lab-aws-front' };
const DISRUPT = 'aws:network:disrupt-connectivity';
const REASONS: Record<string, string> = {
  running: 'Experiment is running.',
  completed: 'Experiment completed.',
  stopped: 'Experiment stopped.',
};

export class AwsFront {
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly region: string;
  private readonly ec2: EC2Client;
  private readonly fis: FisClient;
  private readonly stopper: InstanceStopper;
  /** What the front knows of each experiment: its actions (fixed at start) and their resolved targets. */
  private readonly experiments = new Map<
    string,
    { view: FisExperimentView; resolved: Record<string, string[]> }
  >();
  /** An experiment's end once the front has seen it, which no later answer of moto's changes. */
  private readonly ended = new Map<string, LabStatus>();
  private readonly callers = new Map<string, Promise<string | null>>();
  private readonly subnetZones = new Map<string, Promise<string>>();
  private zoneIds: Promise<Map<string, string>> | undefined;
  /** The actions taking effect now, from the latest poll. */
  active: ResolvedAction[] = [];

  constructor(private readonly options: AwsFrontOptions) {
    this.region = options.region ?? 'us-east-1';
    const config = { region: this.region, endpoint: options.motoUrl, credentials: FRONT_CREDENTIALS };
    this.ec2 = new EC2Client(config);
    this.fis = new FisClient(config);
    this.stopper = new InstanceStopper(this.ec2, options.random, options.log);
  }

  async listen(): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.options.pollEveryMs ?? 300);
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    while (this.polling) await new Promise((resolve) => setTimeout(resolve, 20));
    this.active = [];
    await this.reconcileDynamo().catch(() => undefined);
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** One look at moto's experiments: which actions run now, and the DynamoDB path to match. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = Date.now();
      const active: ResolvedAction[] = [];
      for (const summary of await this.listExperiments()) {
        const id = summary.id ?? '';
        if (this.ended.has(id) && !this.stopper.pending(id)) continue;
        const known = await this.experiment(id);
        const view = { ...known.view, state: summary.state };
        const status = this.status(view, now);
        await this.stopper.settle(id, actionWindows(view), view.targets ?? {}, status === 'running', now);
        if (status !== 'running') continue;
        for (const window of activeActions(view, now)) active.push(this.resolve(id, window, known.resolved));
      }
      this.active = active;
      await this.reconcileDynamo();
    } catch (error) {
      this.options.log?.(`aws-front: FIS poll failed: ${(error as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  private async listExperiments() {
    const all = [];
    let nextToken: string | undefined;
    do {
      const page = await this.fis.send(new ListExperimentsCommand({ nextToken }));
      all.push(...(page.experiments ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return all;
  }

  private status(view: FisExperimentView, now: number): LabStatus {
    const id = view.id ?? '';
    const ended = this.ended.get(id);
    if (ended) return ended;
    const status = labStatus(view, now);
    if (status !== 'running') this.ended.set(id, status);
    return status;
  }

  /** An experiment's actions and targets, read once (GetExperiment) and kept: they never change. */
  private async experiment(id: string) {
    const known = this.experiments.get(id);
    if (known) return known;
    const answer = await this.fis.send(new GetExperimentCommand({ id }));
    const view = JSON.parse(JSON.stringify(answer.experiment ?? {}), (key, value) =>
      (key === 'startTime' || key === 'creationTime') && typeof value === 'string'
        ? Date.parse(value) / 1000
        : value,
    ) as FisExperimentView;
    const resolved: Record<string, string[]> = {};
    for (const [name, target] of Object.entries(view.targets ?? {})) {
      if (target.resourceType === 'aws:iam:role') {
        resolved[name] = (target.resourceArns ?? [])
          .map(roleKey)
          .filter((key): key is string => key !== null);
      } else if (target.resourceType === 'aws:ec2:subnet') {
        resolved[name] = select(await this.subnets(target), target.selectionMode, this.options.random);
      }
    }
    const entry = { view, resolved };
    this.experiments.set(id, entry);
    return entry;
  }

  private resolve(
    experimentId: string,
    window: ActionWindow,
    byTarget: Record<string, string[]>,
  ): ResolvedAction {
    const resolved = Object.fromEntries(
      Object.entries(window.targets).map(([key, target]) => [key, byTarget[target] ?? []]),
    );
    return { ...window, experimentId, resolved };
  }

  /** The subnets an `aws:ec2:subnet` target matches, by ARN, tags and attribute filters. */
  private async subnets(target: {
    resourceArns?: string[];
    resourceTags?: Record<string, string>;
    filters?: { path?: string; values?: string[] }[];
  }) {
    const Filters: Filter[] = Object.entries(target.resourceTags ?? {}).map(([key, value]) => ({
      Name: `tag:${key}`,
      Values: [value],
    }));
    const SubnetIds = target.resourceArns?.map((arn) => arn.split('/').pop() ?? '');
    const answer = await this.ec2.send(new DescribeSubnetsCommand({ Filters, SubnetIds }));
    return (answer.Subnets ?? [])
      .filter((subnet) =>
        (target.filters ?? []).every((f) =>
          (f.values ?? []).includes(String((subnet as Record<string, unknown>)[f.path ?? ''] ?? '')),
        ),
      )
      .map((subnet) => subnet.SubnetId ?? '');
  }

  /** The DynamoDB proxy carries a timeout toxic exactly while a disrupt-connectivity action cuts the orders subnet. */
  private async reconcileDynamo(): Promise<void> {
    const path = this.options.dynamodb;
    if (!path) return;
    const wanted = new Set(
      this.active
        .filter(
          (a) =>
            a.actionId === DISRUPT &&
            a.parameters.scope === 'dynamodb' &&
            (a.resolved.Subnets ?? []).includes(path.subnetId),
        )
        .map((a) => `fis.${a.experimentId}.${a.name}`),
    );
    const toxics = `${path.toxiproxyUrl}/proxies/${encodeURIComponent(path.proxy)}/toxics`;
    const present = ((await (await fetch(toxics)).json()) as { name: string }[])
      .map((t) => t.name)
      .filter((name) => name.startsWith('fis.'));
    for (const name of wanted) {
      if (present.includes(name)) continue;
      const added = await fetch(toxics, {
        method: 'POST',
        body: JSON.stringify({
          name,
          type: 'timeout',
          stream: 'upstream',
          toxicity: 1,
          attributes: { timeout: 0 },
        }),
      });
      if (!added.ok) throw new Error(`toxiproxy: adding ${name}: ${added.status} ${await added.text()}`);
      this.options.log?.(`aws-front: ${name}: DynamoDB connections from the orders subnet time out`);
    }
    for (const name of present.filter((n) => !wanted.has(n))) {
      await fetch(`${toxics}/${encodeURIComponent(name)}`, { method: 'DELETE' });
      this.options.log?.(`aws-front: ${name}: DynamoDB reachable again`);
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const body = await buffer(request);
      const scope = /Credential=([^/,\s]+)\/\d{8}\/[^/]+\/([^/]+)\//.exec(
        request.headers.authorization ?? '',
      );
      const [accessKey, service] = [scope?.[1] ?? '', scope?.[2] ?? ''];
      if (service === 'ec2' && this.active.some((a) => EC2_API_ACTIONS.includes(a.actionId))) {
        const params = new URLSearchParams(
          request.method === 'POST' ? body.toString() : (request.url ?? '').split('?')[1],
        );
        const operation = params.get('Action') ?? '';
        const availabilityZone = await this.zoneOf(params);
        const role = accessKey ? await this.caller(accessKey) : null;
        const code = ec2Fault(this.active, { operation, role, availabilityZone }, this.options.random);
        if (code) {
          const answer = ec2Error(code, availabilityZone.name);
          response.writeHead(answer.status, answer.headers).end(answer.body);
          return;
        }
      }
      const upstream = await forward(this.options.motoUrl, request, body);
      if (service !== 'fis' || (upstream.status ?? 500) >= 300) {
        response.writeHead(upstream.status ?? 502, upstream.headers).end(upstream.body);
        return;
      }
      const rewritten = Buffer.from(
        JSON.stringify(await this.withLifecycle(JSON.parse(upstream.body.toString() || '{}'))),
      );
      const { 'transfer-encoding': _chunked, ...kept } = upstream.headers;
      const headers = { ...kept, 'content-length': String(rewritten.length) };
      response.writeHead(upstream.status ?? 200, headers).end(rewritten);
    } catch (error) {
      this.options.log?.(`aws-front: ${request.method} ${request.url}: ${(error as Error).message}`);
      if (!response.headersSent) response.writeHead(502).end();
    }
  }

  /** FIS's answer with each experiment's state (and its actions') as FIS would report them now. */
  private async withLifecycle(answer: { experiment?: FisExperimentView; experiments?: FisExperimentView[] }) {
    const now = Date.now();
    // A summary (ListExperiments) has no actions: without them, an experiment would look done.
    for (const experiment of [answer.experiment, ...(answer.experiments ?? [])]) {
      if (experiment?.id && !experiment.actions) await this.experiment(experiment.id);
    }
    const rewrite = (experiment: FisExperimentView) => {
      const known = this.experiments.get(experiment.id ?? '')?.view;
      const view = { ...known, ...experiment, actions: experiment.actions ?? known?.actions };
      const status = this.status(view, now);
      const reason = REASONS[status] ?? status;
      if (experiment.actions) {
        for (const window of actionWindows(view)) {
          const action = experiment.actions[window.name] as Record<string, unknown>;
          const state = actionStatus(window, status, now);
          action.state = { status: state, reason: REASONS[state] ?? state };
        }
      }
      return { ...experiment, state: { status, reason } };
    };
    if (answer.experiment) answer.experiment = rewrite(answer.experiment);
    if (answer.experiments) answer.experiments = answer.experiments.map(rewrite);
    return answer;
  }

  /** The caller's role (account/name) for an access key, as moto's STS knows it; null for any other principal. */
  private caller(accessKey: string): Promise<string | null> {
    let known = this.callers.get(accessKey);
    if (!known) {
      // moto reads the access key from the signature and checks nothing else, so the key alone asks.
      const sts = new STSClient({
        region: this.region,
        endpoint: this.options.motoUrl,
        credentials: { accessKeyId: accessKey, secretAccessKey: 'unknown-to-the-front' },
      });
      known = sts.send(new GetCallerIdentityCommand({})).then((identity) => roleKey(identity.Arn ?? ''));
      known.catch(() => this.callers.delete(accessKey));
      this.callers.set(accessKey, known);
    }
    return known;
  }

  /** The zone a RunInstances would use: its placement, its subnet's, or the region's first (moto's default). */
  private async zoneOf(params: URLSearchParams): Promise<{ name: string; id: string }> {
    const subnet = params.get('SubnetId') ?? params.get('NetworkInterface.1.SubnetId');
    let name = params.get('Placement.AvailabilityZone') ?? `${this.region}a`;
    if (!params.get('Placement.AvailabilityZone') && subnet) {
      let zone = this.subnetZones.get(subnet);
      if (!zone) {
        zone = this.ec2
          .send(new DescribeSubnetsCommand({ SubnetIds: [subnet] }))
          .then((answer) => answer.Subnets?.[0]?.AvailabilityZone ?? `${this.region}a`);
        zone.catch(() => this.subnetZones.delete(subnet));
        this.subnetZones.set(subnet, zone);
      }
      name = await zone;
    }
    this.zoneIds ??= this.ec2
      .send(new DescribeAvailabilityZonesCommand({}))
      .then(
        (answer) =>
          new Map((answer.AvailabilityZones ?? []).map((z) => [z.ZoneName ?? '', z.ZoneId ?? ''] as const)),
      );
    return { name, id: (await this.zoneIds).get(name) ?? '' };
  }
}

function forward(
  target: string,
  request: IncomingMessage,
  body: Buffer,
): Promise<{ status?: number; headers: IncomingMessage['headers']; body: Buffer }> {
  const upstream = new URL(target);
  return new Promise((resolve, reject) => {
    const call = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: request.url,
        method: request.method,
        headers: request.headers,
      },
      (answer) => {
        buffer(answer).then(
          (answerBody) => resolve({ status: answer.statusCode, headers: answer.headers, body: answerBody }),
          reject,
        );
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}
