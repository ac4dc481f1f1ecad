/** The `ec2Fleet` probe: how many matching instances are in a state; min/max judge the count. */
import { Ec2FleetProbe } from '../../experiment/aws-schema';
import { parseDuration } from '../../experiment/duration';
import type { AwsLocationPlan } from '../aws-location';
import { describeInstances } from '../faults/aws-ec2';
import type { ProbeKind, Sample } from '../probe-kind';

export interface Ec2FleetProbePlan extends AwsLocationPlan {
  tags?: Record<string, string>;
  filters?: { name: string; values: string[] }[];
  state: string;
  timeoutMs: number;
  /** The count one sample must be within to be a success. */
  range: { min?: number; max?: number };
}

export async function sampleEc2Fleet(
  probe: Ec2FleetProbePlan,
  range: { min?: number; max?: number },
): Promise<Sample> {
  const at = Date.now();
  const started = performance.now();
  try {
    const instances = await withTimeout(describeInstances(probe, probe, [probe.state]), probe.timeoutMs);
    const count = instances.length;
    const tooFew = range.min !== undefined && count < range.min;
    const tooMany = range.max !== undefined && count > range.max;
    const error = tooFew
      ? `${count} ${probe.state}, fewer than ${range.min}`
      : tooMany
        ? `${count} ${probe.state}, more than ${range.max}`
        : undefined;
    return {
      at,
      ok: !error,
      latencyMs: performance.now() - started,
      value: count,
      ...(error ? { error } : {}),
    };
  } catch (error) {
    return { at, ok: false, latencyMs: performance.now() - started, error: (error as Error).message };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms}ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const ec2Fleet = {
  spec: Ec2FleetProbe,
  usesAws: true,
  /** The count against min/max, not latency, is what the reports chart. */
  measures: 'value',
  plan: (spec, ctx, expect): Ec2FleetProbePlan => {
    const { timeout, ...selector } = spec;
    const range = Object.fromEntries(
      Object.entries({ min: expect?.min, max: expect?.max }).filter(([, v]) => v !== undefined),
    );
    return { ...ctx.aws.location('ec2'), ...selector, timeoutMs: parseDuration(timeout), range };
  },
  sample: (plan) => sampleEc2Fleet(plan, plan.range),
  timeoutMs: (plan) => plan.timeoutMs,
  describe: (plan) => `ec2 instances ${plan.state} ${JSON.stringify(plan.tags ?? plan.filters ?? {})}`,
} satisfies ProbeKind<typeof Ec2FleetProbe, Ec2FleetProbePlan>;
