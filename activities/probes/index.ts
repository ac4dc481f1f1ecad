/** Takes one sample of any probe kind, through the registry (src/providers). */
import type { ProbePlan } from '../../src/experiment/plan';
import { kindOf, PROBE_KINDS, probeBodyOf } from '../../src/providers';
import type { Sample } from './samples';
import type { ProbeIdentity } from './series';

export function takeSample(probe: ProbePlan, signal?: AbortSignal): Promise<Sample> {
  const current = currentShape(probe);
  return kindOf(current).sample(probeBodyOf(current), signal);
}

/**
 * A probe as this worker plans them. Runs planned before probe kinds had a `kind` (still running
 * while the workers were upgraded) carried what makes one sample a success beside the kind, as
 * `okStatus` and `okRange`; the kinds now keep it in their own plan, as `okStatus` and `range`.
 */
export function currentShape(probe: ProbePlan): ProbePlan {
  if (probe.kind) return probe;
  const old = probe as unknown as Record<string, unknown> & {
    name: string;
    okStatus?: unknown;
    okRange?: unknown;
  };
  const kind = PROBE_KINDS.find((name) => old[name] !== undefined);
  if (!kind) throw new Error(`probe ${old.name} has no kind`);
  const body = { ...(old[kind] as object), okStatus: old.okStatus ?? null, range: old.okRange ?? {} };
  return { ...old, kind, [kind]: body } as unknown as ProbePlan;
}

/** The kind and range of a planned probe, as its summaries name them. */
export function identityOf(plan: ProbePlan, name = plan.name): ProbeIdentity {
  const probe = currentShape(plan);
  const measured = kindOf(probe).measures === 'value';
  const range = (probeBodyOf(probe) as { range?: { min?: number; max?: number } }).range;
  return { name, kind: probe.kind, ...(measured ? { range: range ?? {} } : {}) };
}

/** How long one sample may take: a request still running when a window closes is dropped. */
export function timeoutOf(plan: ProbePlan): number {
  const probe = currentShape(plan);
  return kindOf(probe).timeoutMs(probeBodyOf(probe));
}
