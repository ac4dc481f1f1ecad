/**
 * The multi-region build's DynamoDB client (builds.ts `failover`): every call goes to the active
 * region, us-east-1 at first. A call there that gets no answer (its name does not resolve, the
 * connection fails or times out) or a 5xx makes us-west-2 active, so the build's next attempt
 * (withDynamo's retry in orders-instance.ts) and every call after it go there: reads and writes
 * fail over together, one failed attempt after the region went away.
 *
 * Failback rule: while failed over, us-east-1 is asked for the health item every `checkEveryMs`;
 * after `failbackAfterChecks` answers in a row it is active again. Writes taken in us-west-2
 * meanwhile replicate back to us-east-1 with the lab's lag (replication.ts), so until they have,
 * a read that misses in us-east-1 is asked of us-west-2 before it is answered 404.
 */
import { type DynamoDBClient, GetItemCommand, type GetItemCommandOutput } from '@aws-sdk/client-dynamodb';

export interface FailoverBehaviour {
  /** The region calls fail over to. */
  region: string;
  checkEveryMs: number;
  failbackAfterChecks: number;
}

/** An answer DynamoDB gave, as opposed to none: a 4xx is the caller's to handle, in any region. */
function regionFailed(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}

export class RegionFailover {
  private active: 'home' | 'failover' = 'home';
  private healthyChecks = 0;
  private checking: NodeJS.Timeout | null = null;
  readonly stats = { failovers: 0, failbacks: 0 };

  constructor(
    private readonly home: DynamoDBClient,
    private readonly failover: DynamoDBClient,
    private readonly behaviour: FailoverBehaviour & { table: string; timeoutMs: number },
    private readonly log: (line: string) => void = () => {},
  ) {}

  get region(): string {
    return this.active === 'home' ? 'us-east-1' : this.behaviour.region;
  }

  readonly send = (async (command: Parameters<DynamoDBClient['send']>[0], options?: object) => {
    const onHome = this.active === 'home';
    const client = onHome ? this.home : this.failover;
    let output: unknown;
    try {
      output = await client.send(command as never, options as never);
    } catch (error) {
      if (onHome && regionFailed(error)) this.failOver(error);
      throw error;
    }
    if (onHome && command instanceof GetItemCommand && !(output as GetItemCommandOutput).Item)
      return this.missedAtHome(command, output);
    return output;
  }) as DynamoDBClient['send'];

  /** A write taken in the other region may not have replicated back yet: ask it before saying 404. */
  private async missedAtHome(command: GetItemCommand, miss: unknown): Promise<unknown> {
    try {
      const there = await this.failover.send(command, {
        abortSignal: AbortSignal.timeout(this.behaviour.timeoutMs),
      });
      return there.Item ? there : miss;
    } catch {
      return miss;
    }
  }

  private failOver(error: unknown): void {
    if (this.active !== 'home') return;
    this.active = 'failover';
    this.stats.failovers++;
    this.healthyChecks = 0;
    this.log(`failed over to ${this.behaviour.region}: ${(error as Error).name} ${(error as Error).message}`);
    this.checking = setInterval(() => void this.checkHome(), this.behaviour.checkEveryMs);
    this.checking.unref();
  }

  private async checkHome(): Promise<void> {
    try {
      await this.home.send(
        new GetItemCommand({ TableName: this.behaviour.table, Key: { id: { S: 'health' } } }),
        { abortSignal: AbortSignal.timeout(this.behaviour.timeoutMs) },
      );
      this.healthyChecks++;
    } catch {
      this.healthyChecks = 0;
    }
    if (this.active === 'failover' && this.healthyChecks >= this.behaviour.failbackAfterChecks) {
      this.active = 'home';
      this.stats.failbacks++;
      if (this.checking) clearInterval(this.checking);
      this.checking = null;
      this.log(`failed back to us-east-1 after ${this.healthyChecks} healthy checks`);
    }
  }
}
