/**
 * The EC2 instances an FIS target matches, found the way FIS finds them, so the blast radius, the
 * locks and `gameday plan` count what FIS would act on. For the resource types gameday resolves,
 * aws:ec2:instance and aws:ec2:spot-instance, FIS runs DescribeInstances and applies each filter's
 * attribute path to its output ("Placement.AvailabilityZone", "NetworkInterfaces.Groups.GroupId",
 * any path into an instance: FIS's "Targets" guide, "Resource filters"). gameday does the same: a
 * path is checked against the SDK's own schema of an EC2 Instance, so one that names no attribute
 * (a typo, a camel-case element) is refused rather than silently matching nothing or everything,
 * and values are compared as FIS describes: any value at the path equal to any filter value.
 */
import { type Instance, Instance$ } from '@aws-sdk/client-ec2';
import { NormalizedSchema } from '@smithy/core/schema';
import type { AwsLocationPlan } from '../aws-location';
import { refused } from '../fault-provider';
import { describeInstances } from './aws-ec2';

export interface FisTargetView {
  resourceType?: string;
  resourceArns?: string[];
  resourceTags?: Record<string, string>;
  filters?: { path?: string; values?: string[] }[];
  selectionMode?: string;
}

/** The resource types whose targets gameday resolves (and holds to the blast radius and locks). */
export const INSTANCE_RESOURCE_TYPES = ['aws:ec2:instance', 'aws:ec2:spot-instance'];

export interface MatchedTarget {
  /** The instances FIS would choose among, sorted. */
  ids: string[];
  /** resourceArns whose instance does not exist (or is terminated): reported, never locked. */
  missing: string[];
}

/** Why a filter path cannot be applied to an EC2 Instance, or null when it can. */
export function filterPathProblem(path: string): string | null {
  let schema = NormalizedSchema.of(Instance$);
  for (const element of path.split('.')) {
    while (schema.isListSchema()) schema = schema.getValueSchema();
    if (!schema.isStructSchema()) return `${path}: ${element} is below a value, not an attribute`;
    const members = schema.getMemberSchemas();
    const member = members[element];
    if (!member) {
      const near = Object.keys(members).find((name) => name.toLowerCase() === element.toLowerCase());
      return `${path}: an EC2 instance has no attribute ${element}${near ? ` (did you mean ${near}? FIS wants Pascal case)` : ''}`;
    }
    schema = member;
  }
  while (schema.isListSchema()) schema = schema.getValueSchema();
  if (schema.isStructSchema() || schema.isMapSchema())
    return `${path}: names a structure, not a value to compare`;
  if (schema.isTimestampSchema() || schema.isBlobSchema()) {
    return `${path}: FIS compares filter values as text, and gameday cannot tell how it writes this value`;
  }
  return null;
}

export async function matchInstanceTarget(
  location: AwsLocationPlan,
  target: FisTargetView,
  where: string,
): Promise<MatchedTarget> {
  const problems = (target.filters ?? []).flatMap((filter) => {
    const problem = filterPathProblem(filter.path ?? '');
    return problem ? [problem] : [];
  });
  if (problems.length > 0) {
    throw refused(
      `${where}: filter path ${problems.join('; ')}; FIS applies a path to DescribeInstances' output`,
    );
  }
  const spotOnly = target.resourceType === 'aws:ec2:spot-instance';
  const isCandidate = (instance: Instance) => !spotOnly || instance.InstanceLifecycle === 'spot';

  if (target.resourceArns?.length) {
    const wanted = target.resourceArns.map((arn) => arn.split('/').at(-1) ?? arn);
    // A filter on instance-id, not InstanceIds: EC2 fails the whole call when one id does not exist.
    const found = (
      await describeInstances(location, { filters: [{ name: 'instance-id', values: wanted }] }, null)
    )
      .filter((i) => i.State?.Name !== 'terminated' && isCandidate(i))
      .map((i) => i.InstanceId ?? '');
    return { ids: [...found].sort(), missing: wanted.filter((id) => !found.includes(id)) };
  }
  const instances = await describeInstances(location, { tags: target.resourceTags }, null);
  const ids = instances
    // DescribeInstances still lists instances terminated lately: no action can touch them, and
    // counting them would make a selection look smaller than it is against the blast radius.
    .filter((i) => i.State?.Name !== 'terminated' && isCandidate(i))
    .filter((instance) =>
      (target.filters ?? []).every((f) => matchesFilter(instance, f.path ?? '', f.values ?? [])),
    )
    .map((i) => i.InstanceId ?? '');
  return { ids: ids.sort(), missing: [] };
}

/** Any value found at the path (lists expand at every level) equals any of the filter's values. */
function matchesFilter(instance: Instance, path: string, values: string[]): boolean {
  let found: unknown[] = [instance];
  for (const element of path.split('.')) {
    found = found
      .flatMap((value) => (Array.isArray(value) ? value : [value]))
      .map((value) =>
        value && typeof value === 'object' ? (value as Record<string, unknown>)[element] : undefined,
      )
      .filter((value) => value !== undefined && value !== null);
  }
  return found
    .flatMap((value) => (Array.isArray(value) ? value : [value]))
    .some((value) => values.includes(String(value)));
}
