/**
 * The phase watch: one long, heartbeating activity that samples the guardrails and the phase's
 * expectations until the phase ends, and returns as soon as a guardrail breaches. It returns
 * summaries, not samples, so the workflow history grows by one event per phase, not per sample.
 *
 * The heartbeat carries the samples taken so far, at least every 250ms: when the worker dies, the
 * next attempt (on another worker) resumes with them and runs until the same `endsAt`. Each
 * attempt's window (from its start to its last heartbeat that reached Temporal) goes into the
 * result, so the journal says which stretches of the phase nobody watched.
 */
import { Context } from '@temporalio/activity';
import type { ExpectationPlan, GuardrailPlan, ProbePlan } from '../src/experiment/plan';
import { bodyOf, describeHandle, type FaultHandle, providerOf } from '../src/providers';
import type {
  FaultObservation,
  HypothesisCheck,
  ProbeSummary,
  WatchAttempt,
  WatchResult,
} from '../src/report/journal';
import { BEAT_EVERY_MS, leaveDeadWorkerBehind } from './liveness';
import { identityOf, timeoutOf } from './probes';
import { type Lateness, type Sampler, startSampler } from './probes/sampler';
import { bucketWidth, checkTolerance, findBreach, type Sample } from './probes/samples';
import {
  factsOf,
  newSeries,
  recentSamples,
  record,
  type SeriesState,
  seriesOf,
  summarizeSeries,
} from './probes/series';
import { workerIdentity } from './worker-identity';

export interface WatchInput {
  phase: string;
  startedAt: number;
  endsAt: number;
  guardrails: GuardrailPlan[];
  expectations: ExpectationPlan[];
  /** The phase's faults: the watch follows those whose provider can observe them (FIS's experiments). */
  faults?: FaultHandle[];
}

/** What a watch heartbeats: enough to resume after a crash, and what `gameday status` shows live. */
export interface WatchProgress {
  phase: string;
  endsAt: number;
  workers: string[];
  /** Every attempt so far; the current one's `savedUntil` is the time of this heartbeat. */
  attemptWindows: WatchAttempt[];
  guardrails: Record<string, SeriesState>;
  expectations: SeriesState[];
  observations: FaultObservation[];
}

/** As often as the worker sends heartbeats (its throttle): a crash loses at most this much. */
const HEARTBEAT_EVERY_MS = BEAT_EVERY_MS;
/** Node fires a timer at once when asked to wait longer than this (2^31-1 ms, 24.8 days). */
const LONGEST_TIMER_MS = 2 ** 31 - 1;
const OBSERVE_EVERY_MS = 1_000;
/**
 * Samples carried in a heartbeat, over all probes: under 100 KB of JSON. Every heartbeat
 * (4 a second per run) serializes them and the server stores them, so this, not the phase's
 * length, bounds what a long phase costs per run (at 8,000, a phase of a few minutes made the
 * heartbeat a worker's largest cost: docs/scaling.md). Counts, coverage and gaps survive a resume
 * exactly whatever the budget; a resumed watch's percentiles see older samples thinned out.
 */
const HEARTBEAT_SAMPLE_BUDGET = 1_000;
/**
 * Samples a watch keeps in memory, over all probes (about 15 MB): past that each probe keeps an
 * evenly spread subset for its percentiles, while its counts, coverage and gaps stay exact.
 */
const HELD_SAMPLE_BUDGET = 100_000;

export async function watchPhase(input: WatchInput): Promise<WatchResult> {
  const context = Context.current();
  await leaveDeadWorkerBehind();
  const resumed = context.info.heartbeatDetails as WatchProgress | undefined;
  const startedAt = Date.now();
  const attempt: WatchAttempt = {
    attempt: context.info.attempt,
    worker: workerIdentity(),
    startedAt,
    savedUntil: startedAt,
  };
  const progress: WatchProgress = {
    phase: input.phase,
    endsAt: input.endsAt,
    workers: [...(resumed?.workers ?? []), workerIdentity()],
    attemptWindows: [...(resumed?.attemptWindows ?? []), attempt],
    ...seriesFor(input, resumed),
    observations: observable(input.faults ?? []).map((handle) => {
      const before = resumed?.observations?.find((o) => o.fault === handle.name);
      return before ?? { fault: handle.name, subject: describeHandle(handle), states: [] };
    }),
  };

  let lateness: Lateness[] = [];
  const outcome = await new Promise<WatchResult['breach']>((resolve, reject) => {
    const samplers = [
      ...input.guardrails.map((guardrail) =>
        startSampler(guardrail.probe, guardrail.everyMs, (sample) => {
          const series = progress.guardrails[guardrail.name] as SeriesState;
          record(series, sample);
          const latest = recentSamples(series);
          const breach = findBreach({ ...guardrail, probe: guardrail.probe.name }, latest, Date.now());
          if (breach) finish(() => resolve(breach));
        }),
      ),
      ...input.expectations.map((expectation, i) => {
        const span = windowOf(input, expectation);
        // A window's samples end inside it: on a busy event loop its closing timer fires late,
        // and an answer that came in meanwhile belongs to after the window.
        return inWindow(span, () =>
          startSampler(expectation.probe, expectation.everyMs, (sample) => {
            if (Math.round(sample.at + sample.latencyMs) <= span.to)
              record(progress.expectations[i] as SeriesState, sample);
          }),
        );
      }),
    ];
    const beat = () => {
      attempt.savedUntil = Date.now();
      context.heartbeat(compact(progress));
    };
    // Heartbeat at once too: the next attempt should know this worker was here even if it dies now.
    beat();
    const heartbeat = setInterval(beat, HEARTBEAT_EVERY_MS);
    const faultWatch = followFaults(observable(input.faults ?? []), progress.observations);
    let phaseEnd: NodeJS.Timeout | undefined;
    // In steps a timer can hold: one longer timer would end the phase at once.
    const endAtEndsAt = () => {
      const left = input.endsAt - Date.now();
      if (left <= 0) finish(() => resolve(null));
      else phaseEnd = setTimeout(endAtEndsAt, Math.min(left, LONGEST_TIMER_MS));
    };
    const onCancel = () => finish(() => reject(context.cancellationSignal.reason));
    context.cancellationSignal.addEventListener('abort', onCancel);
    endAtEndsAt();

    function finish(settle: () => void) {
      for (const sampler of samplers) sampler.stop();
      lateness = samplers.map((sampler) => sampler.lateness());
      faultWatch.stop();
      clearInterval(heartbeat);
      clearTimeout(phaseEnd);
      context.cancellationSignal.removeEventListener('abort', onCancel);
      settle();
    }
  });

  const endedAt = Date.now();
  const window = (probe: ProbePlan, everyMs: number, span = { from: input.startedAt, to: endedAt }) => ({
    from: span.from,
    to: Math.max(span.from, Math.min(endedAt, span.to)),
    everyMs,
    tailMs: timeoutOf(probe),
  });
  const guardrails: ProbeSummary[] = input.guardrails.map((guardrail, i) => ({
    ...summarizeSeries(
      identityOf(guardrail.probe, guardrail.name),
      progress.guardrails[guardrail.name] as SeriesState,
      window(guardrail.probe, guardrail.everyMs),
    ),
    ...(lateness[i] ? { lateMs: lateness[i] } : {}),
  }));
  const expectations: HypothesisCheck[] = input.expectations.map((expectation, i) => {
    const series = progress.expectations[i] as SeriesState;
    const late = lateness[input.guardrails.length + i];
    const summary = {
      ...summarizeSeries(
        identityOf(expectation.probe),
        series,
        window(expectation.probe, expectation.everyMs, windowOf(input, expectation)),
      ),
      ...(late ? { lateMs: late } : {}),
    };
    const checks = checkTolerance(summary, factsOf(series), expectation.tolerance);
    const during = expectation.window ? { during: expectation.window.during } : {};
    return { probe: expectation.probe.name, ...during, ok: checks.every((c) => c.ok), checks, summary };
  });
  attempt.savedUntil = endedAt;
  return {
    phase: input.phase,
    startedAt: input.startedAt,
    endedAt,
    guardrails,
    expectations,
    breach: outcome,
    observations: progress.observations,
    attempts: context.info.attempt,
    workers: progress.workers,
    attemptWindows: progress.attemptWindows,
  };
}

/** When an expectation samples: its fault's planned window (`during`), or the whole phase. */
function windowOf(input: WatchInput, expectation: ExpectationPlan): { from: number; to: number } {
  if (!expectation.window) return { from: input.startedAt, to: input.endsAt };
  return {
    from: input.startedAt + expectation.window.fromMs,
    to: input.startedAt + expectation.window.toMs,
  };
}

/**
 * A sampler that runs only inside its window: started when the window opens (at once when a
 * resumed attempt is already inside it), stopped when it closes.
 */
function inWindow(span: { from: number; to: number }, start: () => Sampler): Sampler {
  let sampler: Sampler | undefined;
  let closed = false;
  const close = () => {
    closed = true;
    sampler?.stop();
  };
  const opens = setTimeout(
    () => {
      if (!closed && Date.now() < span.to) sampler = start();
    },
    Math.max(0, span.from - Date.now()),
  );
  const closes = setTimeout(close, Math.min(Math.max(0, span.to - Date.now()), LONGEST_TIMER_MS));
  return {
    stop() {
      clearTimeout(opens);
      clearTimeout(closes);
      close();
    },
    lateness: () => sampler?.lateness() ?? { p50: 0, p99: 0, max: 0 },
  };
}

const observable = (faults: FaultHandle[]) => faults.filter((handle) => providerOf(handle).observe);

/** Polls each observable fault and keeps every change of state: FIS may end an experiment early. */
function followFaults(faults: FaultHandle[], observations: FaultObservation[]) {
  let stopped = false;
  const poll = async () => {
    for (const handle of faults) {
      const observation = observations.find((o) => o.fault === handle.name);
      if (!observation) continue;
      try {
        const seen = await providerOf(handle).observe?.(bodyOf(handle));
        const last = observation.states.at(-1);
        if (seen && seen.status !== last?.status) {
          observation.subject = seen.subject;
          observation.states.push({
            at: Date.now(),
            status: seen.status,
            reason: seen.reason,
            ended: seen.ended,
          });
        }
      } catch {
        // The service unreachable for a moment: the next poll tries again.
      }
    }
  };
  const timer = faults.length ? setInterval(() => void (stopped || poll()), OBSERVE_EVERY_MS) : undefined;
  if (faults.length) void poll();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/**
 * Each guardrail's and expectation's series, bounded to a share of HELD_SAMPLE_BUDGET: the
 * resumed ones where a crashed attempt heartbeated them (plain sample lists from older workers).
 */
function seriesFor(
  input: WatchInput,
  resumed: WatchProgress | undefined,
): Pick<WatchProgress, 'guardrails' | 'expectations'> {
  const bucketMs = bucketWidth(input.endsAt - input.startedAt);
  const heldCap = Math.max(
    1_000,
    Math.floor(HELD_SAMPLE_BUDGET / (input.guardrails.length + input.expectations.length)),
  );
  const series = (everyMs: number, recentCap: number, before: SeriesState | Sample[] | undefined) => {
    const options = { everyMs, heldCap, bucketMs, recentCap };
    if (Array.isArray(before)) return seriesOf(before, options);
    return before ?? newSeries(options);
  };
  return {
    guardrails: Object.fromEntries(
      input.guardrails.map((g) => [
        g.name,
        series(
          g.everyMs,
          Math.max(g.window, g.abortWhen.consecutiveFailures ?? 0),
          resumed?.guardrails[g.name],
        ),
      ]),
    ),
    expectations: input.expectations.map((e, i) => series(e.everyMs, 0, resumed?.expectations[i])),
  };
}

function compact(progress: WatchProgress): WatchProgress {
  const samplers = Object.keys(progress.guardrails).length + progress.expectations.length;
  const cap = Math.max(200, Math.floor(HEARTBEAT_SAMPLE_BUDGET / Math.max(1, samplers)));
  // A series holding a subset also keeps its latest samples apart: the two share its budget.
  const compactSeries = (series: SeriesState): SeriesState =>
    series.stride === 1
      ? { ...series, held: thin(series.held, cap) }
      : {
          ...series,
          held: thin(series.held, Math.floor(cap / 2)),
          recent: series.recent.slice(-Math.floor(cap / 2)),
        };
  return {
    ...progress,
    guardrails: Object.fromEntries(
      Object.entries(progress.guardrails).map(([name, s]) => [name, compactSeries(s)]),
    ),
    expectations: progress.expectations.map(compactSeries),
  };
}

/**
 * At most `cap` samples: the newest half as they are (guardrail windows and failure runs live
 * there), the older ones spread evenly over the other half.
 */
export function thin(samples: Sample[], cap: number): Sample[] {
  if (samples.length <= cap) return samples;
  const keepRecent = Math.floor(cap / 2);
  const older = samples.slice(0, samples.length - keepRecent);
  const olderSlots = cap - keepRecent;
  const step = older.length / olderSlots;
  const keptOlder = Array.from({ length: olderSlots }, (_, i) => older[Math.floor(i * step)] as Sample);
  return [...keptOlder, ...samples.slice(samples.length - keepRecent)];
}
