/**
 * Fires samples of one probe on a fixed schedule, each with its own timeout, without waiting for
 * the previous one: a dependency that hangs must not slow the probe down, or a guardrail would
 * notice an outage later the worse the outage is.
 */
import { setMaxListeners } from 'node:events';
import { createHistogram } from 'node:perf_hooks';
import type { ProbePlan } from '../../src/experiment/plan';
import type { SamplingWindow } from './gaps';
import { takeSample } from './index';
import { type DueSample, sampleClock } from './sample-clock';
import { bucketWidth, type Sample } from './samples';
import { newSeries, record, type SeriesState } from './series';

/** Upper bound on requests in flight per probe, so a hanging target is not flooded. */
const MAX_IN_FLIGHT = 32;

export interface Sampler {
  stop(): void;
  /** How late samples started against their schedule: a worker too busy to keep time. */
  lateness(): Lateness;
}

export interface Lateness {
  p50: number;
  p99: number;
  max: number;
}

export function startSampler(
  probe: ProbePlan,
  everyMs: number,
  onSample: (sample: Sample) => void,
  options: { count?: number; onDone?: () => void } = {},
): Sampler {
  const controller = new AbortController();
  setMaxListeners(MAX_IN_FLIGHT + 8, controller.signal);
  const startedAt = performance.now();
  const late = lateRecorder(startedAt, everyMs);
  let fired = 0;
  let settled = 0;
  let inFlight = 0;
  let next: DueSample | undefined;

  const settle = (sample?: Sample) => {
    settled++;
    if (controller.signal.aborted) return;
    if (sample) onSample(sample);
    if (options.count !== undefined && settled >= options.count) options.onDone?.();
  };

  const fire = () => {
    if (controller.signal.aborted) return;
    late.fired(fired);
    fired++;
    if (inFlight < MAX_IN_FLIGHT) {
      inFlight++;
      void takeSample(probe, controller.signal).then((sample) => {
        inFlight--;
        settle(sample.skip ? undefined : sample);
      });
    } else {
      settle(); // skipped: the target still has MAX_IN_FLIGHT requests open
    }
    if (options.count === undefined) {
      // A watch behind its schedule (a worker short of CPU) takes the latest sample it missed and
      // skips the older ones: a guardrail needs the target's state now, and firing every missed
      // sample late would only add load where there is none to spare. The skipped ones are
      // missing from the coverage, which says so. A check of `count` samples takes them all.
      fired = Math.max(fired, Math.floor((performance.now() - startedAt) / everyMs));
      next = sampleClock.at(startedAt + fired * everyMs, fire);
    } else if (fired < options.count) {
      next = sampleClock.at(startedAt + fired * everyMs, fire);
    }
  };
  fire();

  return {
    stop() {
      sampleClock.cancel(next);
      controller.abort();
    },
    lateness: late.figures,
  };
}

/** Lateness of each sample against `start + k × every`, in an HDR histogram of microseconds. */
function lateRecorder(start: number, everyMs: number) {
  const histogram = createHistogram();
  const ms = (us: number) => Math.round(us / 100) / 10;
  return {
    fired(k: number) {
      histogram.record(Math.max(1, Math.round((performance.now() - start - k * everyMs) * 1_000)));
    },
    figures(): Lateness {
      if (histogram.count === 0) return { p50: 0, p99: 0, max: 0 };
      return { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) };
    },
  };
}

/**
 * Takes `count` samples `everyMs` apart into a series that holds at most `heldCap` of them, and
 * resolves with it and the window it sampled.
 */
export function collectSamples(
  probe: ProbePlan,
  signal?: AbortSignal,
  heldCap = probe.sample.count,
): Promise<{ series: SeriesState; window: SamplingWindow }> {
  const { everyMs, count } = probe.sample;
  const series = newSeries({ everyMs, heldCap, bucketMs: bucketWidth(everyMs * count) });
  const from = Date.now();
  // The check waits for every request it sent: nothing is dropped at its end.
  const window = { from, to: from + (count - 1) * everyMs, everyMs, tailMs: 0 };
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      sampler.stop();
      reject(signal?.reason);
    };
    const sampler = startSampler(probe, everyMs, (sample) => record(series, sample), {
      count,
      onDone: () => {
        signal?.removeEventListener('abort', onAbort);
        resolve({ series, window });
      },
    });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
