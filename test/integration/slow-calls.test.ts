/**
 * Faults whose APIs answer slowly, against the real servers behind a Toxiproxy proxy that delays
 * every request: the Toxiproxy API itself, and moto as the EC2 API.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/lab/ports';
import { awsSettings, instanceStates, launchInstances, MOTO_ACCOUNT, motoUrl, REGION } from '../aws-helpers';
import {
  experimentFor,
  finished,
  observeProxy,
  type ProxyState,
  startExperiment,
  startTarget,
  toxiproxyUrl,
  uniqueName,
  useWorker,
} from '../helpers';

const suite = useWorker('slow-calls');
const { taskQueue } = suite;

/** `upstream` behind a Toxiproxy proxy that delays every request by `delayMs`; its URL. */
async function slowly(upstream: string, delayMs: number): Promise<string> {
  const name = uniqueName('slow');
  const listen = `127.0.0.1:${await freePort()}`;
  const api = toxiproxyUrl();
  const post = async (path: string, body: unknown) => {
    const answer = await fetch(`${api}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!answer.ok) throw new Error(`${path}: ${answer.status} ${await answer.text()}`);
  };
  await post('/proxies', { name, listen, upstream: new URL(upstream).host, enabled: true });
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

type ProxySeen = ProxyState & { at: number };

describe('faults behind slow APIs', () => {
  it("reverts a phase's faults in parallel: a slow revert holds back no other", async () => {
    const [first, second] = [await startTarget(), await startTarget()];
    const slowApi = await slowly(toxiproxyUrl(), 1_000);
    const observers = [observeProxy(first.proxy, 10), observeProxy(second.proxy, 10)];
    const experiment = experimentFor(first, {
      settings: { toxiproxy: { url: slowApi } },
      phases: [
        {
          name: 'both',
          duration: '1s',
          faults: [
            {
              name: 'first-slow',
              toxiproxy: { proxy: first.proxy, toxic: 'latency', attributes: { latency: 5 } },
            },
            {
              name: 'second-slow',
              toxiproxy: { proxy: second.proxy, toxic: 'latency', attributes: { latency: 5 } },
            },
          ],
        },
      ],
    });
    const { handle, runId } = await startExperiment(suite.client, experiment, taskQueue);
    const result = await finished(handle);
    const [firstSeen, secondSeen] = await Promise.all(observers.map((o) => o.stop()));

    expect(result.verdict, result.reason).toBe('passed');
    // Each revert took a second to reach the server; one after the other, the second fault would
    // have stayed a second longer.
    const lastFaulted = (seen: ProxySeen[] | undefined, faulted: (s: ProxySeen) => boolean) =>
      (seen ?? []).filter(faulted).at(-1)?.at ?? 0;
    const firstGone = lastFaulted(firstSeen, (s) => s.toxics.includes(`gameday.${runId}.first-slow`));
    const secondGone = lastFaulted(secondSeen, (s) => s.toxics.includes(`gameday.${runId}.second-slow`));
    expect(Math.abs(firstGone - secondGone)).toBeLessThan(500);
    const [a, b] = result.journal.faults.map((fault) => fault.revertedAt ?? 0);
    expect(Math.abs((a ?? 0) - (b ?? 0))).toBeLessThan(500);
    expect(result.journal.events.filter((e) => e.type === 'fault.reverted').map((e) => e.message)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^first-slow; in place \d/)]),
    );
  });

  it('keeps heartbeating through EC2 calls longer than the heartbeat timeout', async () => {
    const fleet = uniqueName('fleet');
    const ids = await launchInstances(2, { app: fleet });
    const target = await startTarget();
    // Every EC2 call takes 3.2s, longer than the 3s heartbeat timeout of inject and revert.
    const slowEc2 = await slowly(motoUrl(), 3_200);
    const experiment = experimentFor(target, {
      target: { environment: 'local', accounts: [MOTO_ACCOUNT], regions: [REGION] },
      settings: { aws: { ...awsSettings(), endpoints: { ...awsSettings().endpoints, ec2: slowEc2 } } },
      phases: [
        {
          name: 'stop-one',
          duration: '1s',
          faults: [
            { name: 'stop-one', awsEc2: { action: 'stop', tags: { app: fleet }, selection: 'COUNT(1)' } },
          ],
        },
      ],
      recovery: { within: '10s' },
    });
    const { handle } = await startExperiment(suite.client, experiment, taskQueue);
    const result = await finished(handle);

    expect(result.verdict, result.reason).toBe('passed');
    const fault = result.journal.faults[0];
    expect(fault).toMatchObject({ status: 'reverted', alreadyGone: false, revertAttempts: 1 });
    expect(result.journal.events.map((e) => e.message).join('\n')).not.toMatch(/timed out|Heartbeat/i);
    expect(Object.values(await instanceStates(ids))).toEqual(['running', 'running']);
  }, 120_000);
});
