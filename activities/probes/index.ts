/** Takes one sample of any probe kind; a new kind adds a file here and one case below. */
import type { ProbePlan } from '../../src/experiment/plan';
import { sampleHttp } from './http';
import type { Sample } from './samples';

export function takeSample(probe: ProbePlan, signal?: AbortSignal): Promise<Sample> {
  return sampleHttp(probe.http, probe.okStatus, signal);
}
