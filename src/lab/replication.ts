/**
 * The lab's second region: DynamoDB global tables, played by two dynalites (us-east-1 and
 * us-west-2), each behind a front that sees every write its region acknowledges, and a replicator
 * that applies each write to the other region `lagMs` after it was acknowledged (the item as it
 * then is in its region, as global tables replicate the latest version of an item). Both regions
 * take writes and replicate to each other: what the multi-region build writes in us-west-2 during
 * a failover reaches us-east-1 the same way.
 *
 * A region is lost when its DynamoDB endpoint cannot be reached the way its clients reach it: its
 * name through the lab's DNS, then its proxy (a void name, a proxy down or hanging). At that
 * moment, the writes it acknowledged and had not yet replicated are lost: they are rolled back in
 * it (set to the other region's version, usually none), as a region that rejoins as a replica of
 * the one that took over, and never reach the other region. That is the case a continuity plan's
 * RPO is for: a region that does not come back. (Real global tables would deliver them late if
 * the region returns; the lab plays the worst case.) Writes it takes after that (in the lab, only
 * from a client holding its address from before a DNS void) replicate as usual.
 */
import { Resolver } from 'node:dns/promises';
import { createServer, request as forward, type Server } from 'node:http';
import { buffer } from 'node:stream/consumers';
import {
  type AttributeValue,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';

export interface RegionSpec {
  /** us-east-1, us-west-2. */
  name: string;
  /** Its dynalite, reached directly (the replicator is AWS's, not a client of the region's name). */
  dynamodbUrl: string;
  /** The name its clients use. */
  hostname: string;
}

/** One acknowledged write not yet applied to the other region. */
interface PendingWrite {
  table: string;
  key: Record<string, AttributeValue>;
  ackAt: number;
}

interface Region {
  spec: RegionSpec;
  /** Where its name leads: its Toxiproxy proxy's port on loopback. */
  port: number;
  client: DynamoDBClient;
  /** Writes it acknowledged, oldest first, waiting for the lag to pass. */
  outgoing: PendingWrite[];
  reachable: boolean;
  failures: number;
  checking: boolean;
  stats: { acknowledged: number; replicated: number; lost: number; lostAt: number | null };
}

/**
 * How often each region's endpoint is checked (one check at a time), and how many failures in a
 * row lose it. A void name or a proxy down fails a check at once; a hanging one takes the timeout,
 * more lenient than any build's DynamoDB timeout, so a busy machine is not a lost region.
 */
const CHECK_EVERY_MS = 100;
const LOST_AFTER_FAILURES = 3;
const CHECK_TIMEOUT_MS = 1_000;

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

export class Replication {
  private readonly regions: [Region, Region];
  private readonly resolver = new Resolver({ timeout: CHECK_TIMEOUT_MS, tries: 1 });
  private readonly keySchemas = new Map<string, Promise<string[]>>();
  private timers: NodeJS.Timeout[] = [];
  private applying = false;
  /** The write being copied now: it reaches the other region even if its region is lost meanwhile. */
  private inFlight: PendingWrite | null = null;

  constructor(
    specs: [RegionSpec, RegionSpec],
    private lag: number,
    dnsServer: string,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.resolver.setServers([dnsServer]);
    const region = (spec: RegionSpec): Region => ({
      spec,
      client: new DynamoDBClient({
        region: spec.name,
        endpoint: spec.dynamodbUrl,
        credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
      }),
      port: 0,
      outgoing: [],
      reachable: true,
      failures: 0,
      checking: false,
      stats: { acknowledged: 0, replicated: 0, lost: 0, lostAt: null },
    });
    this.regions = [region(specs[0]), region(specs[1])];
  }

  get lagMs(): number {
    return this.lag;
  }

  /** A new lag applies to what is still pending too: setting 0 replicates the backlog at once. */
  setLag(ms: number): void {
    this.lag = ms;
  }

  /** Replicates, and checks each region where its clients reach it: the port its name leads to. */
  start(ports: [number, number]): void {
    this.regions[0].port = ports[0];
    this.regions[1].port = ports[1];
    this.timers.push(setInterval(() => void this.applyDue(), 20));
    for (const region of this.regions)
      this.timers.push(setInterval(() => void this.check(region), CHECK_EVERY_MS));
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  snapshot() {
    return {
      lagMs: this.lag,
      regions: this.regions.map((r) => ({
        name: r.spec.name,
        reachable: r.reachable,
        pending: r.outgoing.length,
        ...r.stats,
      })),
    };
  }

  /**
   * An HTTP front before a region's dynalite, where its proxy leads: it passes every call through
   * and records the writes dynalite acknowledged.
   */
  async listenFront(regionName: string): Promise<{ url: string; close(): Promise<void> }> {
    const region = this.regions.find((r) => r.spec.name === regionName);
    if (!region) throw new Error(`no region ${regionName}`);
    const upstream = new URL(region.spec.dynamodbUrl);
    const server: Server = createServer((request, response) => {
      void buffer(request).then(
        (body) => {
          const call = forward(
            {
              host: upstream.hostname,
              port: upstream.port,
              method: request.method,
              path: request.url,
              headers: request.headers,
            },
            (answer) => {
              const chunks: Buffer[] = [];
              answer.on('data', (chunk: Buffer) => chunks.push(chunk));
              answer.on('end', () => {
                if (answer.statusCode === 200) {
                  try {
                    this.record(region, request.headers['x-amz-target'], body);
                  } catch (error) {
                    this.log(
                      `replication: a write ${region.spec.name} acknowledged is not replicated: ${error}`,
                    );
                  }
                }
                response.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(chunks));
              });
            },
          );
          call.on('error', () => response.destroy());
          call.end(body);
        },
        () => response.destroy(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return {
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      close: () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  /** The keys a write acknowledged by `region` touched, queued for the other region. */
  private record(region: Region, target: string | string[] | undefined, body: Buffer): void {
    const operation = String(target ?? '').split('.')[1] ?? '';
    if (!WRITES.has(operation)) return;
    const ackAt = Date.now();
    const input = JSON.parse(body.toString() || '{}');
    const writes: {
      table: string;
      item?: Record<string, AttributeValue>;
      key?: Record<string, AttributeValue>;
    }[] =
      operation === 'BatchWriteItem'
        ? Object.entries(input.RequestItems ?? {}).flatMap(([table, requests]) =>
            (requests as { PutRequest?: { Item: never }; DeleteRequest?: { Key: never } }[]).map((r) => ({
              table,
              item: r.PutRequest?.Item,
              key: r.DeleteRequest?.Key,
            })),
          )
        : [{ table: input.TableName, item: input.Item, key: input.Key }];
    for (const write of writes) {
      region.stats.acknowledged++;
      const pending: PendingWrite = { table: write.table, key: write.key ?? {}, ackAt };
      region.outgoing.push(pending);
      // A put names its key among the item's attributes: the table's key schema says which.
      if (!write.key && write.item) {
        const item = write.item;
        void this.keyOf(region, write.table).then((names) => {
          pending.key = Object.fromEntries(names.map((n) => [n, item[n] as AttributeValue]));
        });
      }
    }
  }

  private keyOf(region: Region, table: string): Promise<string[]> {
    let names = this.keySchemas.get(table);
    if (!names) {
      names = region.client
        .send(new DescribeTableCommand({ TableName: table }))
        .then((d) => (d.Table?.KeySchema ?? []).map((k) => k.AttributeName ?? ''));
      names.catch(() => this.keySchemas.delete(table));
      this.keySchemas.set(table, names);
    }
    return names;
  }

  /** Applies, oldest first, what has waited out the lag. */
  private async applyDue(): Promise<void> {
    if (this.applying) return;
    this.applying = true;
    try {
      for (const [from, to] of [this.regions, [this.regions[1], this.regions[0]]] as const) {
        while (from.outgoing[0] && Date.now() - from.outgoing[0].ackAt >= this.lag) {
          const write = from.outgoing[0];
          if (Object.keys(write.key).length === 0) break; // its key schema is still being read
          this.inFlight = write;
          await copyItem(from.client, to.client, write).then(
            () => from.stats.replicated++,
            (error) =>
              this.log(`replication: ${from.spec.name} to ${to.spec.name}: ${(error as Error).message}`),
          );
          this.inFlight = null;
          if (from.outgoing[0] === write) from.outgoing.shift();
        }
      }
    } finally {
      this.applying = false;
    }
  }

  /** Whether the region's clients can reach it: its name, then a connection through its proxy. */
  private async check(region: Region): Promise<void> {
    if (region.checking) return;
    region.checking = true;
    const ok = await this.reaches(region);
    region.checking = false;
    if (ok) {
      region.failures = 0;
      if (!region.reachable) this.log(`replication: ${region.spec.name} reachable again`);
      region.reachable = true;
      return;
    }
    region.failures++;
    if (region.reachable && region.failures >= LOST_AFTER_FAILURES) {
      region.reachable = false;
      await this.lose(region);
    }
  }

  private async reaches(region: Region): Promise<boolean> {
    try {
      const [address] = await this.resolver.resolve4(region.spec.hostname);
      const answer = await fetch(`http://${address}:${region.port}/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
        },
        body: '{}',
        signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
      });
      await answer.arrayBuffer();
      return true;
    } catch {
      return false;
    }
  }

  /** The region is gone: what it had not replicated is lost, rolled back to the other region's version. */
  private async lose(region: Region): Promise<void> {
    const other = region === this.regions[0] ? this.regions[1] : this.regions[0];
    const backlog = region.outgoing.splice(0).filter((write) => write !== this.inFlight);
    region.stats.lost += backlog.length;
    region.stats.lostAt = Date.now();
    this.log(
      `replication: ${region.spec.name} lost with ${backlog.length} writes not yet replicated to ${other.spec.name} (lag ${this.lag}ms)`,
    );
    for (const write of backlog)
      await copyItem(other.client, region.client, write).catch((error) =>
        this.log(`replication: rolling back in ${region.spec.name}: ${(error as Error).message}`),
      );
  }
}

/** The item as it is in `from`, written to `to` (deleted there if `from` has none). */
async function copyItem(from: DynamoDBClient, to: DynamoDBClient, write: PendingWrite): Promise<void> {
  const { Item } = await from.send(
    new GetItemCommand({ TableName: write.table, Key: write.key, ConsistentRead: true }),
  );
  if (Item) await to.send(new PutItemCommand({ TableName: write.table, Item }));
  else await to.send(new DeleteItemCommand({ TableName: write.table, Key: write.key }));
}
