/**
 * The steady-state hypothesis: every probe sampled `count` times `every` apart, and each one's
 * tolerance must hold. Before the faults it is checked once. After rollback it is checked
 * again and again until it holds or `deadline` passes: how long that took is the recovery time.
 */
import { Context } from '@temporalio/activity';
import type { ProbePlan } from '../src/experiment/plan';
import type { HypothesisCheck, SteadyStateResult } from '../src/report/journal';
import { identityOf } from './probes';
import { collectSamples } from './probes/sampler';
import { checkTolerance } from './probes/samples';
import { factsOf, summarizeSeries } from './probes/series';

/** Samples one check keeps in memory over all its probes; see HELD_SAMPLE_BUDGET in watch.ts. */
const HELD_SAMPLE_BUDGET = 100_000;

export interface SteadyStateInput {
  probes: ProbePlan[];
  /** Keep checking until a check holds or this time passes; a check that starts before it counts. */
  deadline: number;
  /** When rollback ended: recovery time is measured from here. */
  since?: number;
}

export async function checkSteadyState(input: SteadyStateInput): Promise<SteadyStateResult> {
  const context = Context.current();
  const startedAt = Date.now();
  let attempts = 0;
  for (;;) {
    attempts++;
    context.heartbeat({ attempts });
    const heldCap = Math.max(1_000, Math.floor(HELD_SAMPLE_BUDGET / input.probes.length));
    const probes = await Promise.all(input.probes.map((probe) => checkProbe(probe, context, heldCap)));
    const ok = probes.every((probe) => probe.ok);
    if (ok || Date.now() >= input.deadline) {
      const firstSample = Math.min(...probes.map((p) => p.summary.from));
      return {
        ok,
        startedAt,
        endedAt: Date.now(),
        attempts,
        probes,
        ...(input.since === undefined
          ? {}
          : { recoveredAfterMs: ok ? Math.max(0, firstSample - input.since) : null }),
      };
    }
  }
}

async function checkProbe(probe: ProbePlan, context: Context, heldCap: number): Promise<HypothesisCheck> {
  const beat = setInterval(() => context.heartbeat(), 500);
  try {
    const { series, window } = await collectSamples(probe, context.cancellationSignal, heldCap);
    const summary = summarizeSeries(identityOf(probe), series, window);
    const checks = checkTolerance(summary, factsOf(series), probe.tolerance);
    return { probe: probe.name, ok: checks.every((check) => check.ok), checks, summary };
  } finally {
    clearInterval(beat);
  }
}
