/**
 * Faults on a timeline, against a real Temporal dev server and a real Toxiproxy: a fault with a
 * startAfter goes in at its offset and comes out at the end of its own duration while the phase's
 * other fault stays; a run that stops before a fault's start never injects it. What was injected
 * and when is observed on the Toxiproxy server itself.
 */
import { describe, expect, it } from 'vitest';
import type { ExperimentInput } from '../../src/experiment/schema';
import { abortSignal } from '../../workflows/messages';
import {
  experimentFor,
  finished,
  observeProxy,
  proxyState,
  startExperiment,
  startTarget,
  type Target,
  useWorker,
  waitFor,
} from '../helpers';

const suite = useWorker('fault-timeline');
const { taskQueue } = suite;

/** One phase: `whole` (a small latency) for all of it, `late` (a large latency) for a stretch of it. */
function timelineExperiment(
  target: Target,
  phase: { duration: string; startAfter: string; lateDuration?: string },
  overrides: Partial<ExperimentInput> = {},
): ExperimentInput {
  return experimentFor(target, {
    phases: [
      {
        name: 'overlap',
        duration: phase.duration,
        faults: [
          { name: 'whole', toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 5 } } },
          {
            name: 'late',
            startAfter: phase.startAfter,
            ...(phase.lateDuration ? { duration: phase.lateDuration } : {}),
            toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 400 } },
          },
        ],
        expect: [
          // Over the whole phase the large latency is a third of the samples: the median holds...
          { probe: 'svc-ok', every: '50ms', expect: { latencyP50: '200ms' } },
          // ...and judged over its own window alone it does not.
          { probe: 'svc-ok', during: 'late', every: '50ms', expect: { latencyP50: '200ms' } },
        ],
      },
    ],
    ...overrides,
  });
}

const seenWith = (seen: { at: number; toxics: string[] }[], toxic: string) =>
  seen.filter((s) => s.toxics.includes(toxic)).map((s) => s.at);

describe('a fault on the phase timeline', () => {
  it('goes in at its startAfter and out at its own end, while the other fault stays the whole phase', async () => {
    const target = await startTarget();
    const observer = observeProxy(target.proxy, 20);
    const experiment = timelineExperiment(target, { duration: '6s', startAfter: '2s', lateDuration: '2s' });
    const { handle, runId } = await startExperiment(suite.client, experiment, taskQueue);
    const result = await finished(handle);
    const seen = await observer.stop();
    await target.stop();

    const { journal } = result;
    const phase = journal.phases[0];
    const clock = phase?.watch?.startedAt ?? Number.NaN;
    const fault = (name: string) => journal.faults.find((f) => f.handle.name === name);
    const whole = seenWith(seen, `gameday.${runId}.whole`);
    const late = seenWith(seen, `gameday.${runId}.late`);
    expect(fault('whole')?.status).toBe('reverted');
    expect(fault('late')?.status).toBe('reverted');
    // On the server: `late` appeared 2s into the phase, and was gone again 2s later.
    expect(late.length).toBeGreaterThan(20);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(clock + 2_000 - 20);
    expect(Math.max(...late)).toBeLessThan(clock + 6_000);
    // `whole` was there before `late` came, and after it went, until the phase ended.
    expect(Math.min(...whole)).toBeLessThan(Math.min(...late));
    expect(whole.filter((at) => at > Math.max(...late) + 100).length).toBeGreaterThan(20);
    expect(seen.at(-1)?.toxics).toEqual([]);
    // The journal records each fault's own window, agreeing with the server.
    expect(fault('late')?.injectedAt).toBeGreaterThanOrEqual(clock + 2_000);
    expect(fault('late')?.revertedAt).toBeGreaterThanOrEqual(clock + 4_000);
    expect(fault('late')?.revertedAt).toBeLessThan(fault('whole')?.revertedAt ?? 0);
    expect(fault('whole')?.injectedAt).toBeLessThanOrEqual(clock);
    expect(fault('whole')?.revertedAt).toBeGreaterThanOrEqual(clock + 6_000);
    // Judged per window: the phase as a whole held, the window of `late` did not.
    const checks = phase?.watch?.expectations ?? [];
    expect(checks.map((c) => [c.probe, c.during, c.ok])).toEqual([
      ['svc-ok', undefined, true],
      ['svc-ok', 'late', false],
    ]);
    const windowed = checks[1]?.summary;
    // Sampled from its window's start to its end, and nowhere else.
    expect(windowed?.from).toBeGreaterThanOrEqual(clock + 2_000);
    expect(windowed?.from).toBeLessThan(clock + 2_200);
    expect(windowed?.to).toBeGreaterThan(clock + 3_800);
    expect(windowed?.to).toBeLessThanOrEqual(clock + 4_000);
    expect(result.verdict).toBe('deviated');
    expect(result.reason).toBe('phase expectation failed: overlap/svc-ok during late');
  });

  it('is never injected when the run is aborted before its start', async () => {
    const target = await startTarget();
    const observer = observeProxy(target.proxy, 20);
    const experiment = timelineExperiment(target, { duration: '60s', startAfter: '20s' });
    const { handle, runId } = await startExperiment(suite.client, experiment, taskQueue);
    await waitFor(async () => (await proxyState(target.proxy)).toxics.includes(`gameday.${runId}.whole`), {
      what: 'the first fault',
    });
    await handle.signal(abortSignal, { reason: 'stop before the late fault', by: 'oncall' });
    const result = await finished(handle);
    const seen = await observer.stop();
    await target.stop();

    expect(result.verdict).toBe('aborted');
    expect(seenWith(seen, `gameday.${runId}.whole`).length).toBeGreaterThan(0);
    expect(seenWith(seen, `gameday.${runId}.late`)).toEqual([]);
    expect(seen.at(-1)?.toxics).toEqual([]);
    const { journal } = result;
    expect(journal.faults.map((f) => [f.handle.name, f.status])).toEqual([['whole', 'reverted']]);
    expect(journal.phases[0]?.notInjected).toEqual(['late']);
    expect(journal.events.filter((e) => e.type === 'fault.not-injected').map((e) => e.message)).toEqual([
      'late: never injected, the phase stopped before its start at +20s',
    ]);
  });

  it('is never injected when a guardrail breaches before its start', async () => {
    const target = await startTarget();
    const observer = observeProxy(target.proxy, 20);
    const experiment = timelineExperiment(
      target,
      { duration: '60s', startAfter: '20s' },
      {
        guardrails: [
          {
            name: 'svc-up',
            probe: 'svc-ok',
            every: '25ms',
            window: 4,
            abortWhen: { consecutiveFailures: 3 },
          },
        ],
      },
    );
    const { handle, runId } = await startExperiment(suite.client, experiment, taskQueue);
    await waitFor(async () => (await proxyState(target.proxy)).toxics.includes(`gameday.${runId}.whole`), {
      what: 'the first fault',
    });
    target.setMode('fail');
    const result = await finished(handle);
    const seen = await observer.stop();
    await target.stop();

    expect(result.verdict).toBe('aborted');
    expect(result.reason).toMatch(/guardrail svc-up breached/);
    expect(seenWith(seen, `gameday.${runId}.late`)).toEqual([]);
    expect(seen.at(-1)?.toxics).toEqual([]);
    expect(result.journal.faults.map((f) => f.handle.name)).toEqual(['whole']);
    expect(result.journal.phases[0]?.notInjected).toEqual(['late']);
  });
});
