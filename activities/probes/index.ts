/** Takes one sample of any probe kind; a new kind adds a file here and one line below. */
import type { ProbePlan } from '../../src/experiment/plan';
import { sampleDynamoDb } from '../../src/providers/probes/dynamodb';
import { sampleEc2Fleet } from '../../src/providers/probes/ec2-fleet';
import { sampleHttp } from '../../src/providers/probes/http';
import type { Sample } from './samples';

export function takeSample(probe: ProbePlan, signal?: AbortSignal): Promise<Sample> {
  if (probe.dynamodb) return sampleDynamoDb(probe.dynamodb, signal);
  if (probe.ec2Fleet) return sampleEc2Fleet(probe.ec2Fleet, probe.okRange);
  if (probe.http) return sampleHttp(probe.http, probe.okStatus, signal);
  throw new Error(`probe ${probe.name} has no kind`);
}
