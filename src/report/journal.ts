/**
 * The journal: the single record of a run, versioned. Reports are pure functions of it. The pieces
 * that activities produce (fault handles, probe summaries, checks) are defined here too, so the
 * workflow, the activities and the reports share one definition of each.
 */
import { z } from 'zod';
import { FaultHandle, PROBE_KINDS, type ProbeKindName } from '../providers';

import { AcknowledgedWrites, ContinuityRecord } from './continuity-record';
import { JOURNAL_VERSION } from './journal-version';

export { JOURNAL_VERSION };

const Timestamp = z.number().int().describe('Milliseconds since the Unix epoch');

export const Verdict = z.enum(['passed', 'deviated', 'aborted', 'rollback-failed', 'not-started']);
export type Verdict = z.infer<typeof Verdict>;

// ---------------------------------------------------------------------------------------------
// Faults: the handle names exactly what is injected, so it can be reverted by anyone, any time.

// The union of every registered provider's handle (src/providers), discriminated on `provider`.
export { FaultHandle } from '../providers';
export { type Ec2Handle, Ec2Instance } from '../providers/faults/aws-ec2';
export { FisHandle } from '../providers/faults/aws-fis';
export { ToxicSpec, ToxiproxyHandle } from '../providers/faults/toxiproxy';

export const FaultStatus = z.enum(['recorded', 'injected', 'reverting', 'reverted', 'revert-failed']);

export const FaultRecord = z.object({
  handle: FaultHandle,
  status: FaultStatus,
  recordedAt: Timestamp,
  injectedAt: Timestamp.optional(),
  injectError: z.string().optional(),
  revertedAt: Timestamp.optional(),
  revertAttempts: z.number().int().default(0),
  lastRevertError: z.string().optional(),
  /** True when the revert found nothing to remove (never applied, or removed by someone else). */
  alreadyGone: z.boolean().optional(),
  /** What the revert could not restore because someone else changed it meanwhile. */
  revertNote: z.string().optional(),
});
export type FaultRecord = z.infer<typeof FaultRecord>;

// ---------------------------------------------------------------------------------------------
// Probe measurements

export const LatencyFigures = z.object({
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
  max: z.number(),
});

/** One time bucket of a probe's samples, for timelines. */
export const SampleBucket = z.object({
  at: Timestamp,
  samples: z.number().int(),
  errors: z.number().int(),
  p50: z.number(),
  p99: z.number(),
  /** A counting probe (ec2Fleet): the fewest and the most it counted in the bucket. */
  valueMin: z.number().optional(),
  valueMax: z.number().optional(),
});

/** A stretch in which a probe should have been sampled and was not (a worker or Temporal down). */
export const SampleGap = z.object({
  from: Timestamp,
  to: Timestamp,
  /** Planned samples that fell in it. */
  missed: z.number().int(),
});
export type SampleGap = z.infer<typeof SampleGap>;

export const ProbeSummary = z.object({
  probe: z.string(),
  from: Timestamp,
  to: Timestamp,
  samples: z.number().int(),
  errors: z.number().int(),
  errorRate: z.number(),
  maxConsecutiveFailures: z.number().int(),
  latencyMs: LatencyFigures.nullable(),
  /** The most frequent error messages, with counts: what failed, not just how often. */
  topErrors: z.array(z.object({ message: z.string(), count: z.number().int() })),
  buckets: z.array(SampleBucket),
  // Absent in journals written before coverage and gaps were recorded.
  kind: z.enum(PROBE_KINDS as [ProbeKindName, ...ProbeKindName[]]).optional(),
  /** ec2Fleet: the count a sample must be within. */
  range: z.object({ min: z.number().optional(), max: z.number().optional() }).optional(),
  /** The planned interval between samples, and the width of the buckets. */
  everyMs: z.number().optional(),
  bucketMs: z.number().optional(),
  /** How many samples the window called for: `samples` against this is the coverage. */
  expected: z.number().int().optional(),
  gaps: z.array(SampleGap).optional(),
  /** Set when the window held more samples than a run keeps: the percentiles are of this many, evenly spread. */
  percentilesFrom: z.number().int().optional(),
  /**
   * How late the watch's samples started against their schedule (this attempt's): a worker too
   * busy to keep time. Absent in steady-state checks and in journals written before it was recorded.
   */
  lateMs: z.object({ p50: z.number(), p99: z.number(), max: z.number() }).optional(),
  /** A write probe's acknowledged writes in the window (http `ackId`). */
  acknowledged: AcknowledgedWrites.optional(),
});
export type ProbeSummary = z.infer<typeof ProbeSummary>;

/** One tolerance compared with what was measured. */
export const ToleranceCheck = z.object({
  measure: z.string(),
  limit: z.union([z.number(), z.array(z.number())]),
  measured: z.union([z.number(), z.array(z.number())]).nullable(),
  ok: z.boolean(),
});
export type ToleranceCheck = z.infer<typeof ToleranceCheck>;

export const HypothesisCheck = z.object({
  probe: z.string(),
  /** Judged only while this fault was planned to be in place (`during`); absent: the whole window. */
  during: z.string().optional(),
  ok: z.boolean(),
  checks: z.array(ToleranceCheck),
  summary: ProbeSummary,
});
export type HypothesisCheck = z.infer<typeof HypothesisCheck>;

export const SteadyStateResult = z.object({
  ok: z.boolean(),
  startedAt: Timestamp,
  endedAt: Timestamp,
  /** How many full checks ran (after rollback it is retried until it holds or time runs out). */
  attempts: z.number().int(),
  probes: z.array(HypothesisCheck),
  /** After rollback: ms from the end of rollback to the first sample of the check that held. */
  recoveredAfterMs: z.number().nullable().optional(),
});
export type SteadyStateResult = z.infer<typeof SteadyStateResult>;

export const GuardrailBreach = z.object({
  guardrail: z.string(),
  probe: z.string(),
  measure: z.string(),
  measured: z.number(),
  threshold: z.number(),
  decidedAt: Timestamp,
  /** When the earliest failing sample in the breaching window was taken. */
  firstFailingSampleAt: Timestamp.nullable(),
});
export type GuardrailBreach = z.infer<typeof GuardrailBreach>;

/**
 * A provider's own view of a fault while the phase ran (FIS's experiment states): every state it
 * reported, in order. Journals before the provider seam kept FIS's alone, as `fis`.
 */
export const FaultObservation = z.object({
  fault: z.string(),
  subject: z.string(),
  states: z.array(
    z.object({ at: Timestamp, status: z.string(), reason: z.string(), ended: z.boolean().optional() }),
  ),
});
export type FaultObservation = z.infer<typeof FaultObservation>;

const FisObservation = z.object({
  fault: z.string(),
  experimentId: z.string(),
  states: z.array(z.object({ at: Timestamp, status: z.string(), reason: z.string() })),
});

const FIS_ENDED = ['completed', 'stopped', 'failed', 'cancelled'];

/** The observations of a watch result, read from `fis` in journals written before them. */
export function observationsFromFis(fis: z.infer<typeof FisObservation>[]): FaultObservation[] {
  return fis.map((o) => ({
    fault: o.fault,
    subject: `FIS experiment ${o.experimentId}`,
    states: o.states.map((s) => ({ ...s, ended: FIS_ENDED.includes(s.status) })),
  }));
}

/**
 * One attempt of a phase watch: from its start to its last heartbeat that reached Temporal. The
 * samples of a dead attempt after `savedUntil` died with its worker; between one attempt's
 * `savedUntil` and the next one's `startedAt`, nobody sampled.
 */
export const WatchAttempt = z.object({
  attempt: z.number().int(),
  worker: z.string(),
  startedAt: Timestamp,
  savedUntil: Timestamp,
});
export type WatchAttempt = z.infer<typeof WatchAttempt>;

export const WatchResult = z.preprocess(
  (value) => {
    const old = value as { fis?: unknown; observations?: unknown } | null;
    if (!old || typeof old !== 'object' || old.observations !== undefined || !Array.isArray(old.fis))
      return value;
    const { fis, ...rest } = old;
    const parsed = z.array(FisObservation).safeParse(fis);
    return { ...rest, observations: parsed.success ? observationsFromFis(parsed.data) : [] };
  },
  z.object({
    phase: z.string(),
    startedAt: Timestamp,
    endedAt: Timestamp,
    guardrails: z.array(ProbeSummary),
    expectations: z.array(HypothesisCheck),
    breach: GuardrailBreach.nullable(),
    observations: z.array(FaultObservation).default([]),
    /** More than 1 when the watch resumed on another worker after a crash. */
    attempts: z.number().int(),
    workers: z.array(z.string()),
    /** Every attempt's window, oldest first; absent in journals written before it was recorded. */
    attemptWindows: z.array(WatchAttempt).optional(),
  }),
);
export type WatchResult = z.infer<typeof WatchResult>;

// ---------------------------------------------------------------------------------------------
// The journal

export const JournalEvent = z.object({
  at: Timestamp,
  type: z.string(),
  message: z.string(),
});
export type JournalEvent = z.infer<typeof JournalEvent>;

export const Signal = z.object({
  type: z.enum(['abort', 'cancel', 'approve']),
  at: Timestamp,
  by: z.string(),
  reason: z.string(),
});
export type Signal = z.infer<typeof Signal>;

/** What an observer wrote down during the run: timestamped, with who wrote it. */
export const ObserverNote = z.object({
  at: Timestamp,
  by: z.string(),
  text: z.string(),
});
export type ObserverNote = z.infer<typeof ObserverNote>;

export const PhaseRecord = z.object({
  name: z.string(),
  plannedMs: z.number(),
  startedAt: Timestamp,
  endedAt: Timestamp.optional(),
  faults: z.array(z.string()),
  /** Faults of the phase whose start (startAfter) the run never reached: never recorded, never injected. */
  notInjected: z.array(z.string()).optional(),
  watch: WatchResult.nullable(),
});
export type PhaseRecord = z.infer<typeof PhaseRecord>;

export const RollbackStepRecord = z.object({
  name: z.string(),
  ok: z.boolean(),
  attempts: z.number().int(),
  at: Timestamp,
  error: z.string().optional(),
});
export type RollbackStepRecord = z.infer<typeof RollbackStepRecord>;

export const Journal = z.object({
  version: z.literal(JOURNAL_VERSION),
  runId: z.string(),
  experiment: z.object({
    name: z.string(),
    description: z.string(),
    tags: z.array(z.string()),
    file: z.string(),
    sha256: z.string(),
    environment: z.string(),
    timeScale: z.number(),
  }),
  startedAt: Timestamp,
  endedAt: Timestamp,
  verdict: Verdict,
  reason: z.string(),
  steadyStateBefore: SteadyStateResult.nullable(),
  phases: z.array(PhaseRecord),
  faults: z.array(FaultRecord),
  rollbackSteps: z.array(RollbackStepRecord),
  steadyStateAfter: SteadyStateResult.nullable(),
  recovery: z.object({ withinMs: z.number(), recoveredAfterMs: z.number().nullable() }),
  /** What may still be injected: empty unless the verdict is rollback-failed. */
  remaining: z.array(z.object({ what: z.string(), detail: z.string() })),
  signals: z.array(Signal),
  notes: z.array(ObserverNote).default([]),
  events: z.array(JournalEvent),
  /** Each critical service against its RTO and RPO; absent when the experiment has no continuity plan. */
  continuity: ContinuityRecord.optional(),
  environment: z.object({
    gameday: z.string(),
    temporal: z.object({ namespace: z.string(), taskQueue: z.string(), workflowId: z.string() }),
    /** The AWS identity the worker acted as, when the run used AWS. */
    awsAccount: z.object({ id: z.string(), arn: z.string() }).nullable().default(null),
  }),
});
export type Journal = z.infer<typeof Journal>;
