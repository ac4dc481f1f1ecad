/**
 * What a probe kind is (docs/architecture.md, "The provider seam"): its file schema, a pure plan,
 * and one sample at a time. As with fault providers, top-level imports are zod, src/experiment
 * primitives and types; SDKs load inside `sample`.
 */
import type { z } from 'zod';
import type { AwsLocator } from './aws-location';
import type { RawIssue } from './fault-provider';

/** One sample of a probe. */
export interface Sample {
  /** When the request started. */
  at: number;
  ok: boolean;
  latencyMs: number;
  status?: number;
  /** What a counting probe (ec2Fleet) counted. */
  value?: number;
  error?: string;
  /** Not a sample at all (a prometheus query with no data yet): the sampler drops it, as a gap. */
  skip?: boolean;
  /** A write probe (http `ackId`): the id the service acknowledged the write with. */
  ackId?: string;
}

/** What makes ONE sample a success, as the probe's expect says (status for http, min/max for ec2Fleet). */
export interface SampleExpect {
  status?: number[];
  min?: number;
  max?: number;
}

export interface ProbePlanContext {
  aws: AwsLocator;
}

export interface ProbeKind<Spec extends z.ZodType = z.ZodType, Plan = unknown> {
  /** The file schema under the probe's kind key. */
  spec: Spec;
  /** Whether this kind talks to AWS (settings.aws required; the account is checked). */
  usesAws?: boolean;
  /** Validate-time rules one field cannot express, on the raw parsed spec. */
  issues?(raw: Record<string, unknown>, path: (string | number)[]): RawIssue[];
  /** Pure: spec + what makes one sample a success → the kind's plan. */
  plan(spec: z.infer<Spec>, ctx: ProbePlanContext, expect: SampleExpect | undefined): Plan;
  /** One sample; never throws (a failure is a failed sample). */
  sample(plan: Plan, signal?: AbortSignal): Promise<Sample>;
  /** How long one sample may take at most: its request timeout. */
  timeoutMs(plan: Plan): number;
  /** `gameday plan`'s one-line target ("GET http://...", "dynamodb GetItem orders"). */
  describe(plan: Plan): string;
  /** What `plan --json` must hide (header values). Default: nothing. */
  redact?(plan: Plan): Plan;
  /**
   * `gameday plan`'s question to the server (does the query parse?): `refused` is the file's fault
   * (exit 64, with the probe's location), `unreachable` the server's (exit 69). Default: none.
   */
  check?(plan: Plan): Promise<{ refused?: string; unreachable?: string; field?: string }>;
  /** What the reports chart: latency and errors, or a measured value against the plan's `range`. */
  measures: 'latency' | 'value';
}
