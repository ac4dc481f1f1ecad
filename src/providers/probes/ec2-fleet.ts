/** The `ec2Fleet` probe: how many matching instances are in a state; min/max judge the count. */
import type { Ec2FleetProbePlan } from '../../experiment/plan';
import { describeInstances } from '../faults/aws-ec2';
import type { Sample } from '../probe-kind';

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
