/**
 * FIS filter paths for instance targets: FIS applies them to DescribeInstances' output, so every
 * attribute path of an EC2 instance works, and gameday checks them against the SDK's own schema.
 */
import { describe, expect, it } from 'vitest';
import { filterPathProblem } from '../../src/providers/faults/fis-targets';

describe('a filter path on an instance target', () => {
  it("takes every path FIS's docs use, and any other attribute of DescribeInstances' output", () => {
    for (const path of [
      'Placement.AvailabilityZone',
      'SubnetId',
      'State.Name',
      'NetworkInterfaces.Groups.GroupId',
      'VpcId',
      'InstanceType',
      'SecurityGroups.GroupId',
      'InstanceLifecycle',
      'Placement.Tenancy',
      'EbsOptimized',
      'State.Code',
    ]) {
      expect(filterPathProblem(path), path).toBeNull();
    }
  });

  it('names what is wrong with one FIS could not apply', () => {
    expect(filterPathProblem('InstanceTyp')).toBe(
      'InstanceTyp: an EC2 instance has no attribute InstanceTyp',
    );
    expect(filterPathProblem('placement.availabilityZone')).toBe(
      'placement.availabilityZone: an EC2 instance has no attribute placement (did you mean Placement? FIS wants Pascal case)',
    );
    expect(filterPathProblem('State')).toBe('State: names a structure, not a value to compare');
    expect(filterPathProblem('InstanceType.Name')).toBe(
      'InstanceType.Name: Name is below a value, not an attribute',
    );
    expect(filterPathProblem('LaunchTime')).toContain('gameday cannot tell how it writes this value');
  });
});
