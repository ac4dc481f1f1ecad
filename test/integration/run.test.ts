/**
 * Runs against a real Temporal dev server and a real Toxiproxy server, with an in-process worker:
 * what a run does to the Toxiproxy server, observed from the server itself.
 */
import { describe, expect, it } from 'vitest';
import { abortSignal, statusQuery } from '../../workflows/messages';
import {
  experimentFor,
  finished,
  observeProxy,
  proxyState,
  startExperiment,
  startTarget,
  uniqueName,
  useWorker,
  waitFor,
} from '../helpers';

const suite = useWorker('run-tests');
const { taskQueue } = suite;

describe('a run', () => {
  it('passes, with the toxic on the server during its phase and gone after', async () => {
    const target = await startTarget();
    const observer = observeProxy(target.proxy);
    const { handle, plan } = await startExperiment(suite.client, experimentFor(target), taskQueue);
    const result = await finished(handle);
    const seen = await observer.stop();
    await target.stop();

    expect(result.verdict).toBe('passed');
    const planned = plan.phases[0]?.faults[0];
    const toxic = planned?.provider === 'toxiproxy' ? planned.toxiproxy : undefined;
    expect(toxic?.action === 'toxic' && toxic.toxic.name).toBe(`gameday.${plan.runId}.svc-latency`);
    const withToxic = seen.filter((s) => s.toxics.includes(`gameday.${plan.runId}.svc-latency`));
    expect(withToxic.length).toBeGreaterThan(10);
    expect(seen.at(-1)?.toxics).toEqual([]);

    const fault = result.journal.faults[0];
    expect(fault?.status).toBe('reverted');
    const firstSeen = withToxic[0]?.at ?? 0;
    const lastSeen = withToxic.at(-1)?.at ?? 0;
    // The toxic was there for about the phase's 2s, and the journal's times agree with the server.
    expect(lastSeen - firstSeen).toBeGreaterThan(1_500);
    expect(fault?.injectedAt).toBeLessThanOrEqual(firstSeen + 50);
    expect(fault?.revertedAt).toBeGreaterThanOrEqual(lastSeen - 50);
    // Latency rose during the phase (50ms toxic) and returned after.
    expect(result.journal.phases[0]?.watch).not.toBeNull();
    expect(result.journal.steadyStateAfter?.ok).toBe(true);
    expect(result.journal.recovery.recoveredAfterMs).not.toBeNull();
  });

  it('is not-started when the steady state fails before, and the server never sees a toxic', async () => {
    const target = await startTarget();
    target.setMode('fail');
    const observer = observeProxy(target.proxy, 10);
    const { handle } = await startExperiment(suite.client, experimentFor(target), taskQueue);
    const result = await finished(handle);
    const seen = await observer.stop();
    await target.stop();

    expect(result.verdict).toBe('not-started');
    expect(result.journal.faults).toEqual([]);
    expect(result.journal.phases).toEqual([]);
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.every((s) => s.toxics.length === 0 && s.enabled)).toBe(true);
  });

  it('aborts on a guardrail breach and leaves nothing behind', async () => {
    const target = await startTarget();
    const experiment = experimentFor(target, {
      guardrails: [
        { name: 'svc-up', probe: 'svc-ok', every: '25ms', window: 4, abortWhen: { consecutiveFailures: 3 } },
      ],
      phases: [
        {
          name: 'outage',
          duration: '20s',
          faults: [{ name: 'svc-down', toxiproxy: { proxy: target.proxy, down: true } }],
        },
      ],
    });
    const { handle } = await startExperiment(suite.client, experiment, taskQueue);
    const result = await finished(handle);
    const state = await proxyState(target.proxy);
    await target.stop();

    expect(result.verdict).toBe('aborted');
    expect(result.reason).toMatch(/guardrail svc-up breached: consecutiveFailures/);
    expect(state).toEqual({ enabled: true, toxics: [] });
    // Rolled back on the breach, long before the phase's 20s were up (times from the run's own clock).
    const phase = result.journal.phases[0];
    expect(result.journal.faults[0]?.revertedAt).toBeLessThan((phase?.startedAt ?? 0) + 20_000);
    const breach = phase?.watch?.breach;
    expect(breach?.measure).toBe('consecutiveFailures');
    expect(result.journal.faults[0]?.revertedAt).toBeGreaterThanOrEqual(breach?.decidedAt ?? Infinity);
  });

  it('aborts on the abort signal, reverting what is injected', async () => {
    const target = await startTarget();
    const experiment = experimentFor(target, {
      phases: [
        {
          name: 'long',
          duration: '60s',
          faults: [
            { name: 'svc-reset', toxiproxy: { proxy: target.proxy, toxic: 'reset_peer', attributes: {} } },
          ],
        },
      ],
    });
    const { handle, plan } = await startExperiment(suite.client, experiment, taskQueue);
    const toxic = `gameday.${plan.runId}.svc-reset`;
    await waitFor(async () => (await proxyState(target.proxy)).toxics.includes(toxic), { what: 'the toxic' });
    await handle.signal(abortSignal, { reason: 'customers are hurting', by: 'oncall' });
    const result = await finished(handle);
    const state = await proxyState(target.proxy);
    await target.stop();

    expect(result.verdict).toBe('aborted');
    expect(result.reason).toBe('abort by oncall: customers are hurting');
    expect(state.toxics).toEqual([]);
    expect(result.journal.signals).toMatchObject([
      { type: 'abort', by: 'oncall', reason: 'customers are hurting' },
    ]);
  });

  it('reverts when the workflow is cancelled', async () => {
    const target = await startTarget();
    const experiment = experimentFor(target, {
      phases: [
        {
          name: 'long',
          duration: '60s',
          faults: [{ name: 'svc-down', toxiproxy: { proxy: target.proxy, down: true } }],
        },
      ],
    });
    const { handle } = await startExperiment(suite.client, experiment, taskQueue);
    await waitFor(async () => !(await proxyState(target.proxy)).enabled, {
      what: 'the proxy to be disabled',
    });
    await handle.cancel();
    const result = await finished(handle);
    const state = await proxyState(target.proxy);
    await target.stop();

    expect(result.verdict).toBe('aborted');
    expect(result.reason).toMatch(/cancel/);
    expect(state.enabled).toBe(true);
  });

  it('reports in status what it is doing and what is injected', async () => {
    const target = await startTarget();
    const experiment = experimentFor(target, {
      guardrails: [
        { name: 'svc-up', probe: 'svc-ok', every: '50ms', window: 5, abortWhen: { errorRate: 0.9 } },
      ],
      phases: [
        {
          name: 'slow',
          duration: '30s',
          faults: [
            {
              name: 'svc-latency',
              toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 20 } },
            },
          ],
        },
      ],
    });
    const { handle } = await startExperiment(suite.client, experiment, taskQueue);
    const status = await waitFor(
      async () => {
        const s = await handle.query(statusQuery);
        return s.stage === 'watching' && s.faults[0]?.status === 'injected' ? s : null;
      },
      { what: 'the phase to be watched' },
    );
    expect(status.phase).toMatchObject({ name: 'slow', index: 0, count: 1 });
    expect(status.phase?.endsAt).toBeGreaterThan(Date.now());
    await handle.signal(abortSignal, { reason: 'enough', by: 'test' });
    const result = await finished(handle);
    await target.stop();
    expect(result.verdict).toBe('aborted');
  });

  it('sends header secrets from the worker environment and never records them', async () => {
    const secret = `s3cr3t-${uniqueName('token')}`;
    process.env.GAMEDAY_SECRET_TEST_TOKEN = secret;
    const target = await startTarget('auth', { requireAuthorization: `Bearer ${secret}` });
    const experiment = experimentFor(target);
    const probe = experiment.steadyState[0];
    if (probe?.http) probe.http.headers = { Authorization: 'Bearer ${GAMEDAY_SECRET_TEST_TOKEN}' };
    const { handle } = await startExperiment(suite.client, experiment, taskQueue);
    const result = await finished(handle);
    // Payload data is base64 in the history's JSON: decode it so a secret inside shows as text.
    const history = JSON.stringify(await handle.fetchHistory(), (key, value) =>
      key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value,
    );
    expect(history.includes('Bearer ${GAMEDAY_SECRET_TEST_TOKEN}')).toBe(true);
    await target.stop();

    expect(result.verdict).toBe('passed');
    expect(JSON.stringify(result.journal).includes(secret)).toBe(false);
    expect(history.includes(secret)).toBe(false);
  });

  it('injects nothing when aborted during the steady-state check', async () => {
    const target = await startTarget();
    const experiment = experimentFor(target);
    const probe = experiment.steadyState[0];
    if (probe) probe.sample = { every: '50ms', count: 40 };
    const observer = observeProxy(target.proxy, 10);
    const { handle } = await startExperiment(suite.client, experiment, taskQueue);
    await waitFor(async () => (await handle.query(statusQuery)).stage === 'steady-state-before', {
      what: 'the check',
    });
    await handle.signal(abortSignal, { reason: 'changed my mind', by: 'test' });
    const result = await finished(handle);
    const seen = await observer.stop();
    await target.stop();

    expect(result.verdict).toBe('aborted');
    expect(result.journal.faults).toEqual([]);
    expect(seen.every((s) => s.toxics.length === 0)).toBe(true);
  });

  it('survives an abort signal sent without a payload, and still rolls back', async () => {
    const target = await startTarget();
    const experiment = experimentFor(target, {
      phases: [
        {
          name: 'long',
          duration: '60s',
          faults: [{ name: 'svc-down', toxiproxy: { proxy: target.proxy, down: true } }],
        },
      ],
    });
    const { handle } = await startExperiment(suite.client, experiment, taskQueue);
    await waitFor(async () => !(await proxyState(target.proxy)).enabled, { what: 'the proxy to go down' });
    await suite.client.workflow.getHandle(handle.workflowId).signal('abort');
    const result = await finished(handle);
    const state = await proxyState(target.proxy);
    await target.stop();

    expect(result.reason).toBe('abort by unknown: no reason given');
    expect(state.enabled).toBe(true);
  });
});
