/**
 * What the journal records of a continuity plan (src/experiment/continuity.ts): the writes a write
 * probe got acknowledged in each window, and each service measured against its RTO and RPO. Both
 * are bounded however many writes a run makes: ids are capped and counted, as the series are.
 */
import { z } from 'zod';

const Timestamp = z.number().int();

export const AcknowledgedWrite = z.object({ at: Timestamp, id: z.string() });
export type AcknowledgedWrite = z.infer<typeof AcknowledgedWrite>;

/** A window's acknowledged writes: all of them counted, at most a cap of them kept, evenly spread. */
export const AcknowledgedWrites = z.object({
  count: z.number().int(),
  writes: z.array(AcknowledgedWrite),
});
export type AcknowledgedWrites = z.infer<typeof AcknowledgedWrites>;

const Interval = z.object({ from: Timestamp, to: Timestamp, ms: z.number() });

export const ServiceContinuity = z.object({
  service: z.string(),
  slo: z.array(z.string()),
  rto: z.object({
    targetMs: z.number(),
    /** The longest stretch of windows below SLO, with no healthy window in it; null when none was. */
    longestBelowSlo: Interval.nullable(),
    /** From the end of rollback to the first healthy window after it; null when none came. */
    recoveryMs: z.number().nullable(),
    /** How wide the windows are that were judged (the probes' chart buckets). */
    windowMs: z.number(),
    held: z.boolean(),
  }),
  rpo: z
    .object({
      targetMs: z.number(),
      writeProbe: z.string(),
      /** Every write the probe got acknowledged, and how many of them were read back. */
      acknowledged: z.number().int(),
      checked: z.number().int(),
      /** Read back and not there: lost. */
      lost: z.number().int(),
      /** Could not be read (no answer, an error status): neither found nor known lost. */
      unverified: z.number().int(),
      /** The first lost writes, oldest first, at most a cap of them. */
      lostWrites: z.array(AcknowledgedWrite),
      /** From the first lost write's acknowledgement to the last's; null when none was lost. */
      lostSpan: Interval.nullable(),
      held: z.boolean(),
    })
    .nullable(),
  held: z.boolean(),
});
export type ServiceContinuity = z.infer<typeof ServiceContinuity>;

export const ContinuityRecord = z.object({ services: z.array(ServiceContinuity) });
export type ContinuityRecord = z.infer<typeof ContinuityRecord>;

/** What the read-back found for one service's write probe. */
export interface ReadBackResult {
  service: string;
  checked: number;
  lost: AcknowledgedWrite[];
  unverified: AcknowledgedWrite[];
}
