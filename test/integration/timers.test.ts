/**
 * The workflow's long timers, on Temporal's time-skipping test server: a gate nobody approves
 * aborts the run after its timeout (15 minutes by default), and a revert that keeps failing is
 * retried with a capped backoff until settings.rollbackTimeout, then the run ends rollback-failed.
 * Minutes of workflow time pass in seconds; the attempts and the verdict are the run's own record.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/lab/ports';
import { startToxiproxy } from '../../src/lab/toxiproxy-server';
import type { Journal } from '../../src/report/journal';
import { abortSignal, statusQuery } from '../../workflows/messages';
import { experimentFor, finished, proxyState, startExperiment, startTarget, waitFor } from '../helpers';
import { PATIENCE_MS } from '../patience';
import { startTimeSkipping } from '../time-skipping';

const MINUTE = 60_000;
const eventsOf = (journal: Journal, type: string) => journal.events.filter((e) => e.type === type);

describe('a gate nobody approves', () => {
  it('keeps the run waiting for its whole timeout, then aborts it with nothing injected', async () => {
    const skipping = await startTimeSkipping();
    onTestFinished(() => skipping.stop());
    const target = await startTarget();
    const experiment = experimentFor(target, {
      phases: [
        {
          name: 'gated',
          duration: '1s',
          gate: { approval: 'required' },
          faults: [{ name: 'svc-down', toxiproxy: { proxy: target.proxy, down: true } }],
        },
      ],
    });
    const { handle } = await startExperiment(skipping.env.client, experiment, skipping.taskQueue);
    await waitFor(async () => (await handle.query(statusQuery)).waiting?.phase === 'gated', {
      what: 'the run to wait at the gate',
    });

    // A minute short of the timeout, the run still waits.
    await skipping.env.sleep(14 * MINUTE);
    const status = await handle.query(statusQuery);
    expect(status.stage).toBe('awaiting-approval');
    expect(status.waiting?.timeoutAt).toBe((status.waiting?.since ?? 0) + 15 * MINUTE);

    const result = await finished(handle);
    expect(result.verdict).toBe('aborted');
    expect(result.reason).toBe('abort by gate: nobody approved phase gated within 15m');
    expect(result.journal.faults).toEqual([]);
    expect(result.journal.phases).toEqual([]);
    const [waiting] = eventsOf(result.journal, 'gate.waiting');
    const [abort] = result.journal.signals;
    expect(abort).toMatchObject({ type: 'abort', by: 'gate' });
    // Not a moment before the timeout (the workflow's own clock, which the server skipped).
    expect((abort?.at ?? 0) - (waiting?.at ?? 0)).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
  });
});

describe('a revert that keeps failing', () => {
  it('is retried with a capped backoff until rollbackTimeout, then the run ends rollback-failed', async () => {
    const ROLLBACK_TIMEOUT = 3 * MINUTE;
    const skipping = await startTimeSkipping();
    onTestFinished(() => skipping.stop());
    // A Toxiproxy of its own, to take away for good once the fault is in.
    const toxiproxy = await startToxiproxy(await freePort(), { timeoutMs: PATIENCE_MS });
    onTestFinished(() => toxiproxy.stop());
    const target = await startTarget('stuck', { declareOnly: true });
    const experiment = experimentFor(target, {
      settings: {
        toxiproxy: {
          url: toxiproxy.url,
          proxies: [{ name: target.proxy, listen: target.listen, upstream: target.upstream }],
        },
        rollbackTimeout: '3m',
      },
      // Straight to the service: the steady state after the rollback does not need the proxy.
      steadyState: [
        {
          name: 'svc-ok',
          http: { url: `http://${target.upstream}/health`, timeout: '1s' },
          sample: { every: '20ms', count: 5 },
          expect: { status: [200], errorRate: 0 },
        },
      ],
      phases: [
        {
          name: 'long',
          duration: '10m',
          faults: [
            {
              name: 'svc-fault',
              toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 5 } },
            },
          ],
        },
      ],
    });
    const { handle } = await startExperiment(skipping.env.client, experiment, skipping.taskQueue);
    await waitFor(async () => (await proxyState(target.proxy, toxiproxy.url)).toxics.length > 0, {
      what: 'the toxic on the Toxiproxy server',
    });
    await toxiproxy.stop();
    await handle.signal(abortSignal, { reason: 'take it all back', by: 'test' });
    const started = Date.now();
    const result = await finished(handle);
    const realMs = Date.now() - started;

    const { journal } = result;
    expect(result.verdict).toBe('rollback-failed');
    expect(journal.faults[0]).toMatchObject({ status: 'revert-failed' });
    expect(journal.remaining).toEqual([expect.objectContaining({ what: 'fault svc-fault' })]);
    const attempts = eventsOf(journal, 'fault.revert-failed').map((e) => e.at);
    expect(attempts.length).toBe(journal.faults[0]?.revertAttempts);
    const [gaveUp] = eventsOf(journal, 'rollback.gave-up');
    const [abort] = journal.signals;
    // Gave up at the first attempt after the timeout: not before it, and not an attempt later.
    expect((gaveUp?.at ?? 0) - (abort?.at ?? 0)).toBeGreaterThanOrEqual(ROLLBACK_TIMEOUT);
    expect((attempts.at(-2) ?? 0) - (attempts[0] ?? 0)).toBeLessThan(ROLLBACK_TIMEOUT);

    // 200 ms after the first failed attempt, twice as long after each next one, at most 5 s.
    const backoff = (k: number) => Math.min(200 * 2 ** k, 5_000);
    const gaps = attempts.slice(1).map((at, k) => at - (attempts[k] ?? 0));
    expect(gaps.length).toBeGreaterThan(10);
    for (const [k, gap] of gaps.entries())
      expect(gap, `wait after attempt ${k + 1}`).toBeGreaterThanOrEqual(backoff(k));
    // The server skipped only the waits: the workflow's backoffs, and inside each failed attempt
    // the 100 ms before Temporal's own second try of the activity (workflows/proxies.ts). All the
    // time beyond those is real time the attempts took, so no wait was longer than its backoff.
    const temporalRetryMs = 100;
    const beyond = gaps.reduce((sum, gap, k) => sum + gap - backoff(k) - temporalRetryMs, 0);
    expect(beyond).toBeLessThanOrEqual(realMs);
  });
});
