/**
 * What the sweep knows about one provider: how to find the faults that carry gameday's mark, and
 * how to revert one with the provider's own idempotent revert. One file per provider implements
 * it; the sweep (./sweep.ts) never names a provider.
 */
export interface MarkedFault {
  provider: string;
  /** The run whose mark the fault carries. */
  runId: string;
  /** The fault's name in that run, when the mark says it. */
  fault: string | null;
  /** The thing changed, the same from one sweep to the next: "toxiproxy proxy api toxic gameday.r1.slow". */
  target: string;
  /** What and where, for the listing: "toxic gameday.r1.slow on proxy api (latency)". */
  what: string;
  /** Reverts it with the provider's revert; returns what it did. */
  revert(): Promise<string>;
}

export interface SweepSource {
  name: string;
  find(): Promise<MarkedFault[]>;
}

/** `gameday.<runId>.<fault>`: how a run names its toxics and its down markers (src/experiment/plan.ts). */
export function parseToxicName(name: string): { runId: string; fault: string } | null {
  const match = /^gameday\.(.+)\.([^.]+)$/.exec(name);
  return match?.[1] && match[2] ? { runId: match[1], fault: match[2] } : null;
}
