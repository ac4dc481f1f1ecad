/**
 * The October 20 lab as one process tree on loopback, started and stopped as a unit:
 *
 *   Temporal dev server, Toxiproxy, moto (the EC2 API), dynalite (DynamoDB);
 *   the orders fleet (a process per running instance), its autoscaler, its load balancer;
 *   Toxiproxy proxies for what October 20 broke: `dynamodb`, `ec2-api`, `network-manager`,
 *   `health-checks`, and each instance's own ingress.
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
import { BUILDS, isBuildName } from './builds';
import { startDynalite } from './dynamodb-server';
import { Fleet } from './fleet';
import type { LabInfo } from './lab';
import { LoadBalancer } from './load-balancer';
import { startMoto } from './moto-server';
import { freePort } from './ports';
import { startToxiproxy } from './toxiproxy-server';

const { values } = parseArgs({
  options: {
    home: { type: 'string' },
    build: { type: 'string', default: 'fragile' },
    size: { type: 'string', default: '4' },
  },
});
const home = values.home ?? '.gameday/lab';
const buildName = values.build ?? 'fragile';
if (!isBuildName(buildName)) throw new Error(`unknown build ${buildName}: fragile or hardened`);
const build = BUILDS[buildName];
const size = Number(values.size);
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

process.env.AWS_ACCESS_KEY_ID ??= 'lab';
process.env.AWS_SECRET_ACCESS_KEY ??= 'lab';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const stopping: (() => Promise<void>)[] = [];
let shuttingDown = false;
async function shutdown(code: number): Promise<never> {
  if (!shuttingDown) {
    shuttingDown = true;
    log('lab: stopping');
    for (const stop of stopping.reverse()) await stop().catch((error) => log(`lab: ${error}`));
    await rm(join(home, 'lab.json'), { force: true });
    log('lab: stopped');
  }
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

try {
  await mkdir(home, { recursive: true });
  const [temporal, toxiproxy, moto, dynamo] = await Promise.all([
    freePort().then((port) => startDevServer({ port })),
    freePort().then((port) => startToxiproxy(port)),
    freePort().then((port) => startMoto(port)),
    freePort().then((port) => startDynalite(port)),
  ]);
  stopping.push(temporal.stop, toxiproxy.stop, moto.stop, dynamo.stop);

  await seedOrders(dynamo.url);

  // The network manager: new instances get their network when it answers.
  const networkManager = await serve(await freePort(), (_request, response) =>
    response.writeHead(200).end('propagated'),
  );
  stopping.push(() => close(networkManager.server));

  const [lbPort, relayPort] = await Promise.all([freePort(), freePort()]);
  const proxies = {
    dynamodb: await proxy(toxiproxy.url, 'dynamodb', dynamo.url),
    'ec2-api': await proxy(toxiproxy.url, 'ec2-api', moto.url),
    'network-manager': await proxy(toxiproxy.url, 'network-manager', networkManager.url),
    'health-checks': await proxy(toxiproxy.url, 'health-checks', `http://127.0.0.1:${relayPort}`),
  };

  const loadBalancer = new LoadBalancer({
    behaviour: build.loadBalancer,
    healthCheckTimeoutMs: 500,
    healthCheckVia: `http://${proxies['health-checks']}`,
  });
  await loadBalancer.listen(lbPort, relayPort);
  stopping.push(() => loadBalancer.close());

  const fleet = new Fleet({
    build: buildName,
    motoUrl: moto.url,
    toxiproxyUrl: toxiproxy.url,
    dynamodbEndpoint: `http://${proxies.dynamodb}`,
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
    log,
  });
  autoscaler.start();
  stopping.push(async () => autoscaler.stop());

  const admin = await serve(await freePort(), (request, response) => {
    if (request.url === '/lab/status') {
      const status = {
        build: buildName,
        size,
        fleet: fleet.snapshot(),
        targets: loadBalancer.snapshot(),
        autoscaler: autoscaler.metrics,
      };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status));
      return;
    }
    response.writeHead(404).end();
  });
  stopping.push(() => close(admin.server));

  // Ready when the whole fleet is up, networked and healthy behind the load balancer.
  const deadline = Date.now() + 90_000;
  while (
    loadBalancer.snapshot().filter((t) => t.healthy).length < size ||
    fleet.snapshot().some((m) => !m.networked)
  ) {
    if (Date.now() > deadline) throw new Error(`the fleet did not reach ${size} healthy instances in 90s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
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
      dynamodb: dynamo.url,
      admin: admin.url,
    },
    proxies,
    pids: {
      temporal: temporal.process.pid ?? -1,
      toxiproxy: toxiproxy.pid,
      moto: moto.pid,
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

async function proxy(toxiproxyUrl: string, name: string, upstreamUrl: string): Promise<string> {
  const upstream = new URL(upstreamUrl);
  const listen = `127.0.0.1:${await freePort()}`;
  const answer = await fetch(`${toxiproxyUrl}/proxies`, {
    method: 'POST',
    body: JSON.stringify({ name, listen, upstream: `${upstream.hostname}:${upstream.port}`, enabled: true }),
  });
  if (!answer.ok) throw new Error(`creating proxy ${name}: ${answer.status} ${await answer.text()}`);
  return listen;
}

async function serve(
  port: number,
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${port}` };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
