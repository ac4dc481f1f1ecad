/**
 * What the probes' own servers say about the file before anything runs (a probe kind's `check`:
 * does the PromQL parse?), each refusal located in the file as `file:line:col`, like every other
 * refusal of the file.
 */
import { kindOf, probeBodyOf } from '../providers';
import { ExperimentError, type ExperimentIssue, issueAt, type LoadedExperiment } from './load';
import type { ProbePlan, RunPlan } from './plan';

export interface ProbeCheckResult {
  refused: ExperimentIssue[];
  /** A server that did not answer the question: `plan` says so (exit 69); `run` goes on. */
  unreachable: string[];
}

export async function checkProbes(loaded: LoadedExperiment, plan: RunPlan): Promise<ProbeCheckResult> {
  const located: { probe: ProbePlan; path: (string | number)[] }[] = [
    ...plan.steadyState.map((probe, i) => ({ probe, path: ['steadyState', i] })),
    ...loaded.experiment.guardrails.flatMap((guardrail, i) =>
      typeof guardrail.probe === 'string'
        ? []
        : [{ probe: plan.guardrails[i]?.probe, path: ['guardrails', i, 'probe'] }],
    ),
  ].filter((entry): entry is { probe: ProbePlan; path: (string | number)[] } => entry.probe !== undefined);
  const answers = await Promise.all(
    located.map(async ({ probe, path }) => {
      const kind = kindOf(probe);
      const answer = kind.check ? await kind.check(probeBodyOf(probe)) : {};
      return { path: [...path, probe.kind, ...(answer.field ? [answer.field] : [])], answer };
    }),
  );
  return {
    refused: answers.flatMap(({ path, answer }) =>
      answer.refused ? [issueAt(loaded, path, answer.refused)] : [],
    ),
    unreachable: answers.flatMap(({ answer }) => (answer.unreachable ? [answer.unreachable] : [])),
  };
}

/** Throws the refusals as the file's errors (exit 64). */
export function throwRefusals(result: ProbeCheckResult): void {
  if (result.refused.length > 0) throw new ExperimentError(result.refused);
}
