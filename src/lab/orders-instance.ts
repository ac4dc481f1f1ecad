/**
 * One instance of the lab's `orders` service: a process per running EC2 instance, storing orders
 * in DynamoDB (dynalite) through the lab's `dynamodb` Toxiproxy proxy. What it does when DynamoDB
 * does not answer depends on the build (builds.ts).
 *
 *   POST /orders {item, quantity}   201 {id}, or 202 when queued
 *   GET  /orders/:id                200, 404
 *   GET  /orders                    200 [latest orders]
 *   GET  /health                    200, or 503 (a deep check that fails with DynamoDB)
 */
import { randomBytes } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { BUILDS, isBuildName } from './builds';
import { CachingLookup } from './dns-lookup';
import { countAwsErrors, metered } from './metrics';
import { RegionFailover } from './region-failover';

const instanceId = process.env.INSTANCE_ID ?? 'unknown';
const table = process.env.ORDERS_TABLE ?? 'orders';
const buildName = process.env.BUILD ?? 'fragile';
if (!isBuildName(buildName)) throw new Error(`unknown build ${buildName}`);
const build = BUILDS[buildName].orders;

/**
 * DynamoDB's name is resolved through the lab's DNS server, with the build's cache. No keep-alive:
 * every call opens a connection and so looks the name up, as new connections did on October 20.
 */
const dns = process.env.LAB_DNS_SERVER
  ? new CachingLookup({ server: process.env.LAB_DNS_SERVER, staleIfErrorMs: build.dnsStaleIfErrorMs })
  : null;

const dynamoIn = (region: string, endpoint: string | undefined) => {
  const client = new DynamoDBClient({
    region,
    endpoint,
    credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
    maxAttempts: 1, // retries are the build's to decide
    ...(dns ? { requestHandler: { httpAgent: new Agent({ keepAlive: false, lookup: dns.lookup }) } } : {}),
  });
  countAwsErrors('orders', client);
  return client;
};
const home = dynamoIn('us-east-1', process.env.DYNAMODB_ENDPOINT);
// The multi-region build sends each call to the region that answers (region-failover.ts).
const dynamo: Pick<DynamoDBClient, 'send'> = build.failover
  ? new RegionFailover(
      home,
      dynamoIn(build.failover.region, process.env.DYNAMODB_FAILOVER_ENDPOINT),
      { ...build.failover, table, timeoutMs: build.dynamoTimeoutMs },
      (line) => process.stderr.write(`${new Date().toISOString()} ${instanceId}: ${line}\n`),
    )
  : home;

type Order = { id: string; item: string; quantity: number };
const cache = new Map<string, Order>();
const queue: Order[] = [];

/** One DynamoDB call with the build's timeout and retries; jitter keeps retries from lining up. */
async function withDynamo<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(AbortSignal.timeout(build.dynamoTimeoutMs));
    } catch (error) {
      if (attempt >= build.dynamoRetries) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * 2 ** attempt));
    }
  }
}

const toOrder = (item: Record<string, AttributeValue>): Order => ({
  id: item.id?.S ?? '',
  item: item.item?.S ?? '',
  quantity: Number(item.quantity?.N ?? 0),
});

const putOrder = (order: Order) =>
  withDynamo((abortSignal) =>
    dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: { id: { S: order.id }, item: { S: order.item }, quantity: { N: String(order.quantity) } },
      }),
      { abortSignal },
    ),
  );

async function createOrder(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = JSON.parse((await readBody(request)) || '{}') as Partial<Order>;
  const order: Order = {
    id: `${instanceId}-${randomBytes(4).toString('hex')}`,
    item: String(body.item ?? 'unnamed'),
    quantity: Number(body.quantity ?? 1),
  };
  try {
    await putOrder(order);
    cache.set(order.id, order);
    return send(response, 201, { id: order.id });
  } catch (error) {
    // Only a DynamoDB that did not answer is worth queueing for; a refusal would be refused again.
    const answered =
      (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined;
    if (!build.writeQueue || answered) return send(response, 503, { error: 'orders store unavailable' });
    queue.push(order);
    cache.set(order.id, order);
    return send(response, 202, { id: order.id, queued: true });
  }
}

async function readOrder(id: string, response: ServerResponse): Promise<void> {
  try {
    const answer = await withDynamo((abortSignal) =>
      dynamo.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } } }), { abortSignal }),
    );
    if (!answer.Item) return send(response, 404, { error: 'no such order' });
    const order = toOrder(answer.Item);
    cache.set(id, order);
    return send(response, 200, order);
  } catch {
    const stale = build.staleReads ? cache.get(id) : undefined;
    if (stale) return send(response, 200, stale, { 'x-stale': 'true' });
    return send(response, 503, { error: 'orders store unavailable' });
  }
}

async function listOrders(response: ServerResponse): Promise<void> {
  try {
    const answer = await withDynamo((abortSignal) =>
      dynamo.send(new ScanCommand({ TableName: table, Limit: 20 }), { abortSignal }),
    );
    return send(response, 200, (answer.Items ?? []).map(toOrder));
  } catch {
    if (build.staleReads) return send(response, 200, [...cache.values()].slice(-20), { 'x-stale': 'true' });
    return send(response, 503, { error: 'orders store unavailable' });
  }
}

async function health(response: ServerResponse): Promise<void> {
  if (!build.deepHealthCheck) return send(response, 200, { instance: instanceId });
  try {
    await withDynamo((abortSignal) =>
      dynamo.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'health' } } }), { abortSignal }),
    );
    return send(response, 200, { instance: instanceId });
  } catch {
    return send(response, 503, { instance: instanceId, error: 'orders store unavailable' });
  }
}

/** Queued writes go to DynamoDB as soon as it answers again, oldest first, one flush at a time. */
let flushing: Promise<void> | null = null;
function flushQueue(): Promise<void> {
  // Cleared in a callback, never in the flush itself: a flush with nothing queued finishes before
  // `??=` assigns it, and clearing first would leave a settled flush in place for good (every
  // write queued after it lost).
  flushing ??= writeQueued().finally(() => {
    flushing = null;
  });
  return flushing;
}

async function writeQueued(): Promise<void> {
  try {
    while (queue.length > 0) {
      await putOrder(queue[0] as Order);
      queue.shift();
    }
  } catch {
    // DynamoDB is still away: the next flush tries again.
  }
}
setInterval(() => void flushQueue(), 500).unref();

/** The orders every instance is asked for most; a cache that serves stale reads holds them from the start. */
const HOT_ORDERS = ['seed-1'];

async function warmCache(): Promise<void> {
  for (const id of HOT_ORDERS) {
    for (;;) {
      try {
        const answer = await withDynamo((abortSignal) =>
          dynamo.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } } }), { abortSignal }),
        );
        if (answer.Item) cache.set(id, toOrder(answer.Item));
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}
if (build.staleReads) void warmCache();

const server = createServer((request, response) => {
  if (metered('orders', request, response)) return;
  const path = new URL(request.url ?? '/', 'http://instance').pathname;
  const handled =
    request.method === 'POST' && path === '/orders'
      ? createOrder(request, response)
      : request.method === 'GET' && path === '/orders'
        ? listOrders(response)
        : request.method === 'GET' && path.startsWith('/orders/')
          ? readOrder(decodeURIComponent(path.slice('/orders/'.length)), response)
          : request.method === 'GET' && path === '/health'
            ? health(response)
            : Promise.resolve(send(response, 404, { error: 'not found' }));
  handled.catch(() => send(response, 500, { error: 'internal error' }));
});
server.keepAliveTimeout = 1_000;
// Port 0: the system picks a free port and the fleet learns it from us, so none can take it first.
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.send?.({ port });
});

// If the lab's supervisor dies (even by SIGKILL), the IPC channel closes and the instance goes too.
process.on('disconnect', () => process.exit(0));

// The fleet stops an instance with SIGTERM: stop taking requests, write what was queued (briefly:
// the instance is going away), then go.
process.on('SIGTERM', () => {
  server.close();
  server.closeIdleConnections();
  const deadline = new Promise((resolve) => setTimeout(resolve, 1_500));
  void Promise.race([flushQueue(), deadline]).then(() => process.exit(0));
});

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent) return;
  response
    .writeHead(status, { 'content-type': 'application/json', 'x-instance': instanceId, ...headers })
    .end(JSON.stringify(body));
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}
