/**
 * The samplers' shared clock and what they record of its lateness. The probe asks a loopback port
 * nothing listens on: each sample fails at once (connection refused), so no server is needed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sampleClock } from '../../activities/probes/sample-clock';
import { type Sampler, startSampler } from '../../activities/probes/sampler';
import type { ProbePlan } from '../../src/experiment/plan';
import { freePort } from '../../src/lab/ports';

const probeAt = async (): Promise<ProbePlan> => ({
  name: 'nothing-listens',
  kind: 'http',
  http: { url: `http://127.0.0.1:${await freePort()}/`, method: 'GET', timeoutMs: 1_000, okStatus: null },
  sample: { everyMs: 50, count: 1 },
  tolerance: {},
});
/** Conditions awaited, not budgets: a busy machine's event loop turns slowly. */
const patience = { timeout: 60_000, interval: 5 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let samplers: Sampler[] = [];
afterEach(() => {
  for (const sampler of samplers) sampler.stop();
  samplers = [];
});

describe('the samplers of a worker', () => {
  it('record how late samples started when the event loop was blocked', async () => {
    const sampler = startSampler(await probeAt(), 20, () => {});
    samplers = [sampler];
    await sleep(50);
    const blockedUntil = performance.now() + 200;
    while (performance.now() < blockedUntil) {
      // a worker too busy to keep time
    }
    // The next sample, whenever a busy machine lets it fire, is the one that was held up.
    await vi.waitFor(() => expect(sampler.lateness().max).toBeGreaterThanOrEqual(150), patience);
  });
  it('skip the samples a watch missed while blocked, rather than firing them all late', async () => {
    let samples = 0;
    const startedAt = performance.now();
    samplers = [startSampler(await probeAt(), 20, () => samples++)];
    await sleep(50);
    const blockedUntil = performance.now() + 300;
    while (performance.now() < blockedUntil) {
      // a worker too busy to keep time: 15 samples of this probe were due meanwhile
    }
    const after = samples;
    await vi.waitFor(() => expect(samples).toBeGreaterThanOrEqual(after + 15), patience);
    const planned = (performance.now() - startedAt) / 20;
    // Fired late, the 15 missed samples would be there too.
    expect(samples).toBeLessThan(planned - 10);
  });
});

describe('the sample clock', () => {
  it('fires in time order and never fires what was cancelled', async () => {
    const fired: string[] = [];
    const now = performance.now();
    sampleClock.at(now + 30, () => fired.push('third'));
    sampleClock.at(now + 10, () => fired.push('first'));
    const cancelled = sampleClock.at(now + 15, () => fired.push('cancelled'));
    sampleClock.at(now + 20, () => fired.push('second'));
    sampleClock.cancel(cancelled);
    await vi.waitFor(() => expect(fired).toContain('third'), patience);
    expect(fired).toEqual(['first', 'second', 'third']);
  });

  it('lets a sampler behind its schedule catch up one sample per turn of the event loop', async () => {
    // Ten samples 20ms apart, all due already: the worker was blocked for 200ms.
    const start = performance.now() - 200;
    let fired = 0;
    let firedBeforeIo = -1;
    const fire = () => {
      fired++;
      // What the loop runs next once this turn's timers are done.
      if (fired === 1)
        setImmediate(() => {
          firedBeforeIo = fired;
        });
      if (fired < 10) sampleClock.at(start + fired * 20, fire);
    };
    sampleClock.at(start, fire);
    await vi.waitFor(() => expect(fired).toBe(10), patience);
    // In one burst all ten would fire before anything else (a heartbeat, a response) could run.
    expect(firedBeforeIo).toBeLessThanOrEqual(2);
  });
});
