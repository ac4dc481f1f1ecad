/**
 * The phase watch holds a phase whose end is further away than one Node timer can wait (2^31-1 ms,
 * 24.8 days): validate refuses such files, but a plan made elsewhere (an older gameday, a stored
 * schedule) must still not end its phase at once. The activity runs for real in Temporal's
 * activity test environment, sampling a real target.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { watchPhase } from '../../activities/watch';
import type { ProbePlan } from '../../src/experiment/plan';
import { startTarget } from '../helpers';

describe('the phase watch', () => {
  it('keeps watching a phase that ends 30 days from now, until it is cancelled', async () => {
    const target = await startTarget();
    const probe: ProbePlan = {
      name: 'svc-ok',
      kind: 'http',
      http: { url: target.url, method: 'GET', timeoutMs: 1_000, okStatus: null },
      sample: { everyMs: 50, count: 1 },
      tolerance: {},
    };
    const env = new MockActivityEnvironment({ attempt: 1, heartbeatTimeoutMs: 3_000 });
    const beats: unknown[] = [];
    env.on('heartbeat', (details) => beats.push(details));
    const now = Date.now();
    let ended: string | null = null;
    const watch = env
      .run(watchPhase, {
        phase: 'soak',
        startedAt: now,
        endsAt: now + 30 * 24 * 3_600_000,
        guardrails: [],
        expectations: [{ probe, everyMs: 50, tolerance: {} }],
      })
      .then(
        () => {
          ended = 'returned';
        },
        () => {
          ended = 'cancelled';
        },
      );

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(ended).toBeNull();
    expect(beats.length).toBeGreaterThan(3);
    env.cancel();
    await watch;
    expect(ended).toBe('cancelled');
    await target.stop();
  });
});
