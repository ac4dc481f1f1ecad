/**
 * The journal's window of a fault is when the fault was really in place, as the Toxiproxy server
 * saw it: a revert that takes time is recorded when it took effect, not when it began.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/lab/ports';
import {
  experimentFor,
  finished,
  observeProxy,
  startExperiment,
  startTarget,
  toxiproxyUrl,
  uniqueName,
  useWorker,
} from '../helpers';

const suite = useWorker('fault-window');
const { taskQueue } = suite;

/**
 * The Toxiproxy API itself behind a Toxiproxy proxy with latency on requests: every call the run
 * makes reaches the server `delayMs` after it was sent, like an API across a slow network.
 */
async function slowToxiproxyApi(delayMs: number): Promise<string> {
  const name = uniqueName('slow-api');
  const listen = `127.0.0.1:${await freePort()}`;
  const api = toxiproxyUrl();
  const post = (path: string, body: unknown) =>
    fetch(`${api}${path}`, { method: 'POST', body: JSON.stringify(body) }).then(async (r) => {
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    });
  await post('/proxies', { name, listen, upstream: new URL(api).host, enabled: true });
  onTestFinished(async () => {
    await fetch(`${api}/proxies/${name}`, { method: 'DELETE' });
  });
  await post(`/proxies/${name}/toxics`, {
    name: 'slow-requests',
    type: 'latency',
    stream: 'upstream',
    attributes: { latency: delayMs },
  });
  return `http://${listen}`;
}

describe('the window of a fault in the journal', () => {
  it('ends when a slow revert took effect on the server, and recovery is timed from there', async () => {
    const target = await startTarget();
    const slowApi = await slowToxiproxyApi(1_500);
    const toxic = (runId: string) => `gameday.${runId}.svc-latency`;
    const observer = observeProxy(target.proxy, 10);
    const experiment = experimentFor(target, { settings: { toxiproxy: { url: slowApi } } });
    const { handle, runId } = await startExperiment(suite.client, experiment, taskQueue);
    const result = await finished(handle);
    const seen = await observer.stop();
    await target.stop();

    expect(result.verdict, result.reason).toBe('passed');
    const fault = result.journal.faults[0];
    const withToxic = seen.filter((s) => s.toxics.includes(toxic(runId)));
    const lastSeen = withToxic.at(-1)?.at ?? Number.POSITIVE_INFINITY;
    const firstGone = seen.find((s) => s.at > lastSeen)?.at ?? 0;
    expect(withToxic.length).toBeGreaterThan(10);
    // The revert spent 1.5s reaching the server; the journal says when the toxic was gone.
    expect(fault?.revertedAt).toBeGreaterThanOrEqual(lastSeen);
    expect(Math.abs((fault?.revertedAt ?? 0) - firstGone)).toBeLessThan(500);
    // A look's time is when its request left: the toxic appeared after the last look without it.
    const firstSeen = withToxic[0]?.at ?? 0;
    const lastNotYet = seen.filter((s) => s.at < firstSeen).at(-1)?.at ?? 0;
    expect(fault?.injectedAt).toBeGreaterThanOrEqual(lastNotYet);

    // Recovery runs from the moment the last fault was gone to the first sample of the check that held.
    const after = result.journal.steadyStateAfter;
    const firstSample = Math.min(...(after?.probes ?? []).map((p) => p.summary.from));
    expect(result.journal.recovery.recoveredAfterMs).toBe(
      Math.max(0, firstSample - (fault?.revertedAt ?? 0)),
    );
  });
});
