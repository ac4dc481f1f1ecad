/**
 * The October 20 lab as one process tree on loopback, started and stopped as a unit:
 *
 *   Temporal dev server, Toxiproxy, moto (the EC2 API, and Route 53 with DynamoDB's name),
 *   dynalite (DynamoDB), a DNS server answering from moto's zone (dns-server.ts);
 *   the AWS front before moto, which makes running FIS experiments take effect (aws-front.ts);
 *   the orders fleet (a process per running instance), its autoscaler, its load balancer;
 *   Toxiproxy proxies for what October 20 broke: `dynamodb`, `ec2-api`, `network-manager`,
 *   `health-checks`, and each instance's own ingress;
 *   with the multi-region build, a second region: us-west-2's dynalite behind the
 *   `dynamodb-us-west-2` proxy and a name of its own, replicated both ways (replication.ts).
 *
 * Every port is chosen free at start, so labs and test runs sit side by side. When the lab is
 * ready it writes lab.json (endpoints, pids) into its home; on SIGTERM it stops everything and
 * removes it. Started by `gameday lab up` (src/lab/lab.ts), not by hand.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startDevServer } from '../temporal/dev-server';
import { Autoscaler } from './autoscaler';
import { AwsFront, LAB_FIS_TRANSITION } from './aws-front';
import { autoscalingCredentials, createLabRoles, tagOrdersSubnet } from './aws-identities';
import { BUILDS, isBuildName } from './builds';
import { createLabZone, LAB_DNS, startLabDns } from './dns-server';
import { startDynalite } from './dynamodb-server';
import { Fleet } from './fleet';
import { DEFAULT_REPLICATION_LAG_MS, type LabInfo } from './lab';
import { LoadBalancer } from './load-balancer';
import { setMotoTransition, startMoto } from './moto-server';
import { freePort } from './ports';
import { startPrometheus } from './prometheus-server';
import { Replication } from './replication';
import { startToxiproxy } from './toxiproxy-server';

const { values } = parseArgs({
  options: {
    home: { type: 'string' },
    build: { type: 'string', default: 'fragile' },
    size: { type: 'string', default: '4' },
    'replication-lag': { type: 'string', default: String(DEFAULT_REPLICATION_LAG_MS) },
  },
});
const home = values.home ?? '.gameday/lab';
const buildName = values.build ?? 'fragile';
if (!isBuildName(buildName)) throw new Error(`unknown build ${buildName}: fragile, hardened or multi-region`);
const build = BUILDS[buildName];
const size = Number(values.size);
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

process.env.AWS_ACCESS_KEY_ID ??= 'lab';
process.env.AWS_SECRET_ACCESS_KEY ??= 'lab';

const stopping: (() => Promise<void>)[] = [];
let shuttingDown = false;
async function shutdown(code: number): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    log('lab: stopping');
    for (const stop of stopping.reverse()) await stop().catch((error) => log(`lab: ${error}`));
    await rm(join(home, 'lab.json'), { force: true });
    await rm(join(home, 'lab.pid'), { force: true });
    log('lab: stopped');
  }
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.on('uncaughtException', (error) => {
  log(`lab: ${error.stack ?? error}`);
  void shutdown(1);
});

try {
  await mkdir(home, { recursive: true });
  // Before anything starts: `lab down` can find this lab's processes even if it never gets ready.
  await writeFile(join(home, 'lab.pid'), `${process.pid}\n`);
  // Each server's stop is kept as soon as it runs, so a failure half way leaves none behind.
  const started = <T extends { stop(): Promise<void> }>(server: T): T => {
    stopping.push(() => server.stop());
    return server;
  };
  const [temporal, toxiproxy, moto, dynamo] = await Promise.all([
    onAFreePort((port) => startDevServer({ port })).then(started),
    onAFreePort((port) => startToxiproxy(port)).then(started),
    onAFreePort((port) => startMoto(port)).then(started),
    onAFreePort((port) => startDynalite(port)).then(started),
  ]);

  await seedOrders(dynamo.url);
  // The second region, for the build that fails over to it: us-west-2's DynamoDB, replicated with
  // us-east-1's both ways, each behind a front that sees what its region acknowledges.
  const secondRegion = build.orders.failover
    ? await onAFreePort((port) => startDynalite(port)).then(started)
    : null;
  if (secondRegion) await seedOrders(secondRegion.url);
  // FIS in the lab: experiments run as the AWS front says (aws-front.ts), against the roles and
  // the subnet experiments/aws name.
  await setMotoTransition(moto.url, 'fis::experiment', LAB_FIS_TRANSITION);
  await createLabRoles(moto.url);
  const ordersSubnet = await tagOrdersSubnet(moto.url);

  // DynamoDB's name in a private hosted zone on moto, answered by the lab's DNS server: the
  // instances resolve it there (orders-instance.ts), so emptying the record voids the name.
  const zone = await createLabZone(moto.url);
  const failoverZone = secondRegion
    ? await createLabZone(moto.url, { zoneName: LAB_DNS.failoverZoneName, name: LAB_DNS.failoverName })
    : null;
  const dns = started(await startLabDns(failoverZone ? [zone, failoverZone] : zone, log));
  // The fleet hands its environment to every instance it starts.
  process.env.LAB_DNS_SERVER = dns.address;

  // The network manager: new instances get their network when it answers.
  const networkManager = await serve((_request, response) => response.writeHead(200).end('propagated'));
  stopping.push(() => close(networkManager.server));

  const loadBalancer = new LoadBalancer({ behaviour: build.loadBalancer, healthCheckTimeoutMs: 500 });
  const { port: lbPort, relayPort } = await loadBalancer.listen();
  stopping.push(() => loadBalancer.close());
  const replication = secondRegion
    ? new Replication(
        [
          { name: 'us-east-1', dynamodbUrl: dynamo.url, hostname: LAB_DNS.dynamodbName },
          { name: 'us-west-2', dynamodbUrl: secondRegion.url, hostname: LAB_DNS.failoverName },
        ],
        Number(values['replication-lag']),
        dns.address,
        log,
      )
    : null;
  const front = async (region: string) => {
    const listening = await (replication as Replication).listenFront(region);
    stopping.push(() => listening.close());
    return listening.url;
  };
  const dynamodbProxy = await proxy(
    toxiproxy.url,
    'dynamodb',
    replication ? await front('us-east-1') : dynamo.url,
  );
  const failoverProxy = replication
    ? await proxy(toxiproxy.url, 'dynamodb-us-west-2', await front('us-west-2'))
    : null;
  if (replication && failoverProxy) {
    replication.start([Number(dynamodbProxy.split(':')[1]), Number(failoverProxy.split(':')[1])]);
    stopping.push(async () => replication.stop());
    process.env.DYNAMODB_FAILOVER_ENDPOINT = `http://${LAB_DNS.failoverName}:${failoverProxy.split(':')[1]}`;
  }
  const awsFront = new AwsFront({
    motoUrl: moto.url,
    dynamodb: { toxiproxyUrl: toxiproxy.url, proxy: 'dynamodb', subnetId: ordersSubnet },
    log,
  });
  const awsUrl = await awsFront.listen();
  stopping.push(() => awsFront.close());
  const proxies = {
    dynamodb: dynamodbProxy,
    'ec2-api': await proxy(toxiproxy.url, 'ec2-api', awsUrl),
    'network-manager': await proxy(toxiproxy.url, 'network-manager', networkManager.url),
    'health-checks': await proxy(toxiproxy.url, 'health-checks', `http://127.0.0.1:${relayPort}`),
  };

  loadBalancer.startHealthChecks(`http://${proxies['health-checks']}`);

  const fleet = new Fleet({
    build: buildName,
    motoUrl: moto.url,
    toxiproxyUrl: toxiproxy.url,
    // By name, through the lab's DNS, to the `dynamodb` proxy's port on loopback.
    dynamodbEndpoint: `http://${LAB_DNS.dynamodbName}:${new URL(`http://${proxies.dynamodb}`).port}`,
    networkManagerUrl: `http://${proxies['network-manager']}`,
    loadBalancer,
    log,
  });
  fleet.start();
  stopping.push(() => fleet.stop());

  const autoscaler = new Autoscaler({
    desired: size,
    ec2Endpoint: `http://${proxies['ec2-api']}`,
    behaviour: build.autoscaler,
    credentials: autoscalingCredentials(moto.url),
    subnetId: ordersSubnet,
    // Scale in what serves least: no process or no network yet, then the most recently started.
    scaleInOrder: (ids) => {
      const members = new Map(fleet.snapshot().map((m) => [m.id, m]));
      const serving = (id: string) => (members.get(id)?.networked ? 1 : 0);
      return [...ids].sort(
        (a, b) =>
          serving(a) - serving(b) || (members.get(b)?.startedAt ?? 0) - (members.get(a)?.startedAt ?? 0),
      );
    },
    log,
  });
  autoscaler.start();
  stopping.push(() => autoscaler.stop());

  // Prometheus scrapes the load balancer and each running instance's own process (not its
  // ingress, as it would scrape a pod's address), following the fleet through file-based discovery.
  const prometheus = await onAFreePort((port) => startPrometheus({ port })).then(started);
  await prometheus.setTargets('load-balancer', [{ targets: [`127.0.0.1:${lbPort}`] }]);
  const scrapeFleet = () =>
    prometheus.setTargets(
      'orders',
      fleet
        .snapshot()
        .filter((m) => m.running && m.upstream !== '127.0.0.1:1')
        .map((m) => ({ targets: [m.upstream], labels: { ec2_instance: m.id } })),
    );
  const followFleet = setInterval(() => void scrapeFleet().catch((error) => log(`lab: ${error}`)), 500);
  stopping.push(async () => clearInterval(followFleet));

  const admin = await serve((request, response) => {
    if (request.url === '/lab/status') {
      const status = {
        build: buildName,
        size,
        fleet: fleet.snapshot(),
        targets: loadBalancer.snapshot(),
        autoscaler: autoscaler.metrics,
        ...(replication ? { replication: replication.snapshot() } : {}),
      };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status));
      return;
    }
    // The replication lag, set while the lab runs: {"lagMs": 0}.
    if (request.url === '/lab/replication' && request.method === 'POST' && replication) {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        const lagMs = Number((JSON.parse(body || '{}') as { lagMs?: unknown }).lagMs);
        if (!Number.isInteger(lagMs) || lagMs < 0) {
          response.writeHead(400).end('lagMs: a whole number of milliseconds, 0 or more\n');
          return;
        }
        replication.setLag(lagMs);
        log(`lab: replication lag ${lagMs}ms`);
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(replication.snapshot()));
      });
      return;
    }
    response.writeHead(404).end();
  });
  stopping.push(() => close(admin.server));

  // Ready when the whole fleet answers through its ingress and the load balancer counts it healthy.
  const deadline = Date.now() + 90_000;
  while (!(await fleetServes(fleet, loadBalancer, size))) {
    if (Date.now() > deadline) throw new Error(`the fleet did not reach ${size} healthy instances in 90s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const info: LabInfo = {
    pid: process.pid,
    build: buildName,
    size,
    home,
    endpoints: {
      orders: `http://127.0.0.1:${lbPort}`,
      temporal: temporal.address,
      toxiproxy: toxiproxy.url,
      moto: moto.url,
      aws: awsUrl,
      dynamodb: dynamo.url,
      admin: admin.url,
      dns: dns.address,
      prometheus: prometheus.url,
    },
    dnsZone: { id: zone.hostedZoneId, name: LAB_DNS.zoneName, dynamodb: LAB_DNS.dynamodbName },
    proxies,
    ...(secondRegion && failoverZone && failoverProxy && replication
      ? {
          secondRegion: {
            name: 'us-west-2' as const,
            dynamodb: secondRegion.url,
            dnsZone: {
              id: failoverZone.hostedZoneId,
              name: LAB_DNS.failoverZoneName,
              dynamodb: LAB_DNS.failoverName,
            },
            proxy: failoverProxy,
            replicationLagMs: replication.lagMs,
          },
        }
      : {}),
    pids: {
      temporal: temporal.process.pid ?? -1,
      toxiproxy: toxiproxy.pid,
      moto: moto.pid,
      prometheus: prometheus.pid,
    },
  };
  await writeFile(join(home, 'lab.json'), `${JSON.stringify(info, null, 2)}\n`);
  log(`lab: ready (${buildName}, ${size} instances) at ${info.endpoints.orders}`);
} catch (error) {
  log(`lab: failed to start: ${(error as Error).stack ?? error}`);
  await shutdown(1);
}

/** The orders table, with the items probes read: a seed order and the deep health check's key. */
async function seedOrders(endpoint: string): Promise<void> {
  const db = new DynamoDBClient({ region: 'us-east-1', endpoint });
  await db.send(
    new CreateTableCommand({
      TableName: 'orders',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  for (const id of ['seed-1', 'health']) {
    await db.send(
      new PutItemCommand({
        TableName: 'orders',
        Item: { id: { S: id }, item: { S: 'seed' }, quantity: { N: '1' } },
      }),
    );
  }
}

/** A lab proxy on a port Toxiproxy picks; returns where it listens. */
async function proxy(toxiproxyUrl: string, name: string, upstreamUrl: string): Promise<string> {
  const upstream = new URL(upstreamUrl);
  const answer = await fetch(`${toxiproxyUrl}/proxies`, {
    method: 'POST',
    body: JSON.stringify({
      name,
      listen: '127.0.0.1:0',
      upstream: `${upstream.hostname}:${upstream.port}`,
      enabled: true,
    }),
  });
  if (!answer.ok) throw new Error(`creating proxy ${name}: ${answer.status} ${await answer.text()}`);
  return ((await answer.json()) as { listen: string }).listen;
}

/** A small HTTP server on a port the system picks (so no other process can take it first). */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/**
 * Servers that take their port as an argument (Temporal, moto, Toxiproxy, dynalite) get one that
 * was free a moment ago; if another process took it in between, they get another.
 */
async function onAFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (attempt >= 3) throw error;
      log(`lab: a server did not start (${(error as Error).message.split('\n')[0]}); trying another port`);
    }
  }
}

async function fleetServes(fleet: Fleet, loadBalancer: LoadBalancer, size: number): Promise<boolean> {
  const members = fleet.snapshot().filter((m) => m.running && m.networked);
  const healthy = new Set(
    loadBalancer
      .snapshot()
      .filter((t) => t.healthy)
      .map((t) => t.id),
  );
  if (members.length < size || members.some((m) => !healthy.has(m.id))) return false;
  const answers = await Promise.all(
    members.map((m) =>
      fetch(`http://${m.ingress}/health`, { signal: AbortSignal.timeout(1_000) })
        .then((r) => r.ok)
        .catch(() => false),
    ),
  );
  return answers.every(Boolean);
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
