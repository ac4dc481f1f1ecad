/**
 * The lab's autoscaler: keeps `desired` orders instances running by calling the EC2 API through
 * the `ec2-api` Toxiproxy proxy and the lab's AWS front, as the lab's autoscaling role, so
 * control-plane faults (a proxy's toxics, FIS's InsufficientInstanceCapacity and
 * RequestLimitExceeded on that role) keep it from replacing capacity, as on October 20. How it
 * retries, and whether it shrinks when it cannot launch, is the build's.
 */
import {
  DescribeInstancesCommand,
  EC2Client,
  type EC2ClientConfig,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { Build } from './builds';
import { ORDERS_TAG } from './fleet';
import { countAwsErrors } from './metrics';

export interface AutoscalerOptions {
  desired: number;
  /** The EC2 API as the autoscaler sees it: the `ec2-api` proxy in front of moto. */
  ec2Endpoint: string;
  behaviour: Build['autoscaler'];
  /** Whose calls these are: the lab's autoscaling role (STS AssumeRole), so an FIS target can name it. */
  credentials?: EC2ClientConfig['credentials'];
  /** Where it launches: the lab's orders subnet. */
  subnetId?: string;
  /** Which instances to terminate first when scaling in. */
  scaleInOrder: (ids: string[]) => string[];
  log: (line: string) => void;
}

export interface AutoscalerMetrics {
  calls: number;
  failures: number;
  launched: number;
  terminated: number;
  /** Failed calls by the SDK's error name (InsufficientInstanceCapacity, RequestLimitExceeded, TimeoutError, ...). */
  errors: Record<string, number>;
  /** The size it keeps now: `desired`, unless a build without the lesson shrank it. */
  size: number;
}

const TICK_MS = 300;
/** How long a capacity error counts as "launches are failing" after it was seen. */
const CAPACITY_MEMORY_MS = 10_000;
const THROTTLED = ['RequestLimitExceeded', 'Throttling', 'ThrottlingException'];
/** Backoff bases and caps: throttling from a longer base, as EC2's guide asks of clients. */
const BACKOFF = { other: { baseMs: 250, capMs: 4_000 }, throttled: { baseMs: 1_000, capMs: 20_000 } };

export class Autoscaler {
  private readonly ec2: EC2Client;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> = Promise.resolve();
  private failuresInARow = 0;
  private lastCapacityErrorAt = Number.NEGATIVE_INFINITY;
  readonly metrics: AutoscalerMetrics;

  constructor(private readonly options: AutoscalerOptions) {
    this.ec2 = new EC2Client({
      region: 'us-east-1',
      endpoint: options.ec2Endpoint,
      credentials: options.credentials ?? { accessKeyId: 'lab', secretAccessKey: 'lab' },
      maxAttempts: 1, // retrying is the build's behaviour, below
    });
    this.metrics = { calls: 0, failures: 0, launched: 0, terminated: 0, errors: {}, size: options.desired };
    countAwsErrors('autoscaler', this.ec2);
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  /** Stops, and waits for a call in flight: nothing is launched or terminated after it returns. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    const capacityShort = Date.now() - this.lastCapacityErrorAt < CAPACITY_MEMORY_MS;
    // A build that shrank for lack of capacity grows back once launches have stopped failing.
    if (!capacityShort) this.metrics.size = this.options.desired;
    let instances: { InstanceId?: string }[] = [];
    try {
      const fleet = await this.ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: `tag:${ORDERS_TAG.Key}`, Values: [ORDERS_TAG.Value] },
            { Name: 'instance-state-name', Values: ['pending', 'running'] },
          ],
        }),
        this.callOptions(),
      );
      instances = (fleet.Reservations ?? []).flatMap((r) => r.Instances ?? []);
      const size = this.metrics.size;
      if (instances.length < size) {
        await this.ec2.send(
          new RunInstancesCommand({
            ImageId: 'ami-12c6146b',
            MinCount: 1,
            MaxCount: 1,
            SubnetId: this.options.subnetId,
            TagSpecifications: [
              { ResourceType: 'instance', Tags: [ORDERS_TAG, { Key: 'lifecycle', Value: 'new' }] },
            ],
          }),
          this.callOptions(),
        );
        this.metrics.launched++;
        this.options.log(`autoscaler: launched an instance (${instances.length + 1}/${size})`);
      } else if (
        instances.length > size &&
        !(capacityShort && this.options.behaviour.holdSizeWithoutCapacity)
      ) {
        const ids = this.options
          .scaleInOrder(instances.map((i) => i.InstanceId ?? ''))
          .slice(0, instances.length - size);
        await this.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }), this.callOptions());
        this.metrics.terminated += ids.length;
        this.options.log(`autoscaler: terminated ${ids.join(', ')} (scale in to ${size})`);
      }
      this.failuresInARow = 0;
      this.schedule(TICK_MS);
    } catch (error) {
      this.failed(error as Error, instances.length);
    }
  }

  private failed(error: Error, has: number): void {
    this.metrics.failures++;
    this.metrics.errors[error.name] = (this.metrics.errors[error.name] ?? 0) + 1;
    if (error.name === 'InsufficientInstanceCapacity') {
      this.lastCapacityErrorAt = Date.now();
      if (!this.options.behaviour.holdSizeWithoutCapacity && has < this.metrics.size) {
        this.metrics.size = has; // the day's mistake: shrink to what there is, and let go of what comes back
        this.options.log(`autoscaler: no capacity; scaling in to ${has}`);
      }
    }
    // Fragile: again at once, the storm that made throttling worse. Hardened: exponential backoff
    // with equal jitter, from a longer base when EC2 said RequestLimitExceeded.
    const { baseMs, capMs } = THROTTLED.includes(error.name) ? BACKOFF.throttled : BACKOFF.other;
    const backoffMs = Math.min(baseMs * 2 ** this.failuresInARow, capMs);
    const delayMs = this.options.behaviour.backoff ? backoffMs / 2 + Math.random() * (backoffMs / 2) : 50;
    this.failuresInARow++;
    this.options.log(
      `autoscaler: EC2 call failed: ${error.name} ${error.message}; next try in ${Math.round(delayMs)}ms`,
    );
    this.schedule(delayMs);
  }

  /** Every EC2 call counts, and may take no longer than the build allows. */
  private callOptions() {
    this.metrics.calls++;
    return { abortSignal: AbortSignal.timeout(this.options.behaviour.callTimeoutMs) };
  }
}
