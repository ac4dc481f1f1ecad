/**
 * `aws:ec2:stop-instances` for the lab, which moto's FIS does not carry out: when the action
 * starts, the instances its `Instances` target selects (by ARN, tags and FIS's attribute filters
 * such as `State.Name`, then its selection mode) are stopped in moto; after
 * `startInstancesAfterDuration`, or when the experiment ends before that, they are started again,
 * as FIS does. Without that parameter they stay stopped, as in AWS.
 */
import {
  DescribeInstancesCommand,
  type EC2Client,
  type Filter,
  type Instance,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { ActionWindow, FisTargetSpec } from './fis-lifecycle';
import { select } from './fis-targets';

const STOP = 'aws:ec2:stop-instances';

interface Stopped {
  ids: string[];
  restartAt: number | null;
  restarted: boolean;
}

export class InstanceStopper {
  private readonly stopped = new Map<string, Stopped>();

  constructor(
    private readonly ec2: EC2Client,
    private readonly random: () => number = Math.random,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Whether the experiment still has instances to start again (so it must be looked at after it ended). */
  pending(experimentId: string): boolean {
    return [...this.stopped.entries()].some(
      ([key, s]) => key.startsWith(`${experimentId}/`) && !s.restarted && s.restartAt !== null,
    );
  }

  /** Brings the experiment's stop-instances actions in line with `now` and the experiment's state. */
  async settle(
    experimentId: string,
    windows: ActionWindow[],
    targets: Record<string, FisTargetSpec>,
    running: boolean,
    now: number,
  ): Promise<void> {
    for (const window of windows.filter((w) => w.actionId === STOP)) {
      const key = `${experimentId}/${window.name}`;
      let done = this.stopped.get(key);
      if (!done && running && now >= window.startsAt) {
        const target = targets[window.targets.Instances ?? ''] ?? {};
        const ids = select(await this.matching(target), target.selectionMode, this.random);
        if (ids.length) await this.ec2.send(new StopInstancesCommand({ InstanceIds: ids }));
        const restartAt = window.parameters.startInstancesAfterDuration ? window.endsAt : null;
        done = { ids, restartAt, restarted: false };
        this.stopped.set(key, done);
        this.log(`aws-front: ${key}: stopped ${ids.join(', ') || 'no instance'}`);
      }
      if (done && !done.restarted && done.restartAt !== null && (now >= done.restartAt || !running)) {
        if (done.ids.length) await this.ec2.send(new StartInstancesCommand({ InstanceIds: done.ids }));
        done.restarted = true;
        this.log(`aws-front: ${key}: started ${done.ids.join(', ') || 'no instance'} again`);
      }
    }
  }

  /** The instances an `aws:ec2:instance` target matches now. */
  private async matching(target: FisTargetSpec): Promise<string[]> {
    const Filters: Filter[] = Object.entries(target.resourceTags ?? {}).map(([key, value]) => ({
      Name: `tag:${key}`,
      Values: [value],
    }));
    const InstanceIds = target.resourceArns?.map((arn) => arn.split('/').pop() ?? '');
    const instances: Instance[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.ec2.send(new DescribeInstancesCommand({ Filters, InstanceIds, NextToken }));
      instances.push(...(page.Reservations ?? []).flatMap((r) => r.Instances ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return instances
      .filter((i) => i.State?.Name !== 'terminated')
      .filter((i) =>
        (target.filters ?? []).every((f) => valuesAt(i, f.path ?? '').some((v) => f.values?.includes(v))),
      )
      .map((i) => i.InstanceId ?? '');
  }
}

/** The values at a path of DescribeInstances' output, through lists, as FIS applies a filter path. */
function valuesAt(value: unknown, path: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => valuesAt(item, path));
  if (path === '') return value === undefined || value === null ? [] : [String(value)];
  const [head, ...rest] = path.split('.');
  if (typeof value !== 'object' || value === null) return [];
  return valuesAt((value as Record<string, unknown>)[head ?? ''], rest.join('.'));
}
