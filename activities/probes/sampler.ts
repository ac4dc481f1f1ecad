/**
 * Fires samples of one probe on a fixed schedule, each with its own timeout, without waiting for
 * the previous one: a dependency that hangs must not slow the probe down, or a guardrail would
 * notice an outage later the worse the outage is.
 */
import { setMaxListeners } from 'node:events';
import type { ProbePlan } from '../../src/experiment/plan';
import { takeSample } from './index';
import type { Sample } from './samples';

/** Upper bound on requests in flight per probe, so a hanging target is not flooded. */
const MAX_IN_FLIGHT = 32;

export interface Sampler {
  stop(): void;
}

export function startSampler(
  probe: ProbePlan,
  everyMs: number,
  onSample: (sample: Sample) => void,
  options: { count?: number; onDone?: () => void } = {},
): Sampler {
  const controller = new AbortController();
  setMaxListeners(MAX_IN_FLIGHT + 8, controller.signal);
  const startedAt = Date.now();
  let fired = 0;
  let settled = 0;
  let inFlight = 0;
  let timer: NodeJS.Timeout | undefined;

  const settle = (sample?: Sample) => {
    settled++;
    if (controller.signal.aborted) return;
    if (sample) onSample(sample);
    if (options.count !== undefined && settled >= options.count) options.onDone?.();
  };

  const fire = () => {
    if (controller.signal.aborted) return;
    fired++;
    if (inFlight < MAX_IN_FLIGHT) {
      inFlight++;
      void takeSample(probe, controller.signal).then((sample) => {
        inFlight--;
        settle(sample);
      });
    } else {
      settle(); // skipped: the target still has MAX_IN_FLIGHT requests open
    }
    if (options.count === undefined || fired < options.count) {
      timer = setTimeout(fire, Math.max(0, startedAt + fired * everyMs - Date.now()));
    }
  };
  fire();

  return {
    stop() {
      clearTimeout(timer);
      controller.abort();
    },
  };
}

/** Takes `count` samples `everyMs` apart and resolves with all of them, in the order they ended. */
export function collectSamples(probe: ProbePlan, signal?: AbortSignal): Promise<Sample[]> {
  return new Promise((resolve, reject) => {
    const samples: Sample[] = [];
    const onAbort = () => {
      sampler.stop();
      reject(signal?.reason);
    };
    const sampler = startSampler(probe, probe.sample.everyMs, (sample) => samples.push(sample), {
      count: probe.sample.count,
      onDone: () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(samples.sort((a, b) => a.at - b.at));
      },
    });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
