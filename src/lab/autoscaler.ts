/**
 * The lab's autoscaler: keeps `desired` orders instances running by calling the EC2 API through
 * the `ec2-api` Toxiproxy proxy, so control-plane faults keep it from replacing capacity, as
 * InsufficientInstanceCapacity and throttling did on October 20. How it retries is the build's.
 */
import {
  DescribeInstancesCommand,
  EC2Client,
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
  /** Which instances to terminate first when scaling in. */
  scaleInOrder: (ids: string[]) => string[];
  log: (line: string) => void;
}

export interface AutoscalerMetrics {
  calls: number;
  failures: number;
  launched: number;
  terminated: number;
}

const TICK_MS = 300;

export class Autoscaler {
  private readonly ec2: EC2Client;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private backoffMs = 0;
  readonly metrics: AutoscalerMetrics = { calls: 0, failures: 0, launched: 0, terminated: 0 };

  constructor(private readonly options: AutoscalerOptions) {
    this.ec2 = new EC2Client({
      region: 'us-east-1',
      endpoint: options.ec2Endpoint,
      credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
      maxAttempts: 1, // retrying is the build's behaviour, below
    });
    countAwsErrors('autoscaler', this.ec2);
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
  }

  private async tick(): Promise<void> {
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
      const instances = (fleet.Reservations ?? []).flatMap((r) => r.Instances ?? []);
      if (instances.length < this.options.desired) {
        await this.ec2.send(
          new RunInstancesCommand({
            ImageId: 'ami-12c6146b',
            MinCount: 1,
            MaxCount: 1,
            TagSpecifications: [
              { ResourceType: 'instance', Tags: [ORDERS_TAG, { Key: 'lifecycle', Value: 'new' }] },
            ],
          }),
          this.callOptions(),
        );
        this.metrics.launched++;
        this.options.log(
          `autoscaler: launched an instance (${instances.length + 1}/${this.options.desired})`,
        );
      } else if (instances.length > this.options.desired) {
        const ids = this.options
          .scaleInOrder(instances.map((i) => i.InstanceId ?? ''))
          .slice(0, instances.length - this.options.desired);
        await this.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }), this.callOptions());
        this.metrics.terminated += ids.length;
        this.options.log(`autoscaler: terminated ${ids.join(', ')} (scale in to ${this.options.desired})`);
      }
      this.backoffMs = 0;
      this.schedule(TICK_MS);
    } catch (error) {
      this.metrics.failures++;
      this.options.log(`autoscaler: EC2 call failed: ${(error as Error).name} ${(error as Error).message}`);
      if (!this.options.behaviour.backoff) {
        this.schedule(50); // again at once: the storm that made throttling worse
        return;
      }
      this.backoffMs = Math.min(Math.max(250, this.backoffMs * 2), 4_000);
      this.schedule(this.backoffMs / 2 + Math.random() * (this.backoffMs / 2));
    }
  }

  /** Every EC2 call counts, and may take no longer than the build allows. */
  private callOptions() {
    this.metrics.calls++;
    return { abortSignal: AbortSignal.timeout(this.options.behaviour.callTimeoutMs) };
  }
}
