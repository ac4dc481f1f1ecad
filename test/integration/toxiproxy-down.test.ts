/**
 * A `down` fault re-enables only a proxy that its own run disabled. Against the suite's Toxiproxy
 * server: a proxy someone else disabled is refused before anything runs, or at the inject when it
 * went down in between, and stays as they left it; and a crash anywhere in an inject still leaves
 * a revert that knows the proxy is its own.
 */
import { describe, expect, it } from 'vitest';
import { injectToxiproxy, revertToxiproxy } from '../../src/providers/faults/toxiproxy';
import type { ToxiproxyHandle } from '../../src/report/journal';
import {
  experimentFor,
  finished,
  proxyState,
  startExperiment,
  startTarget,
  toxiproxyUrl,
  useWorker,
  waitFor,
} from '../helpers';

const suite = useWorker('down-tests');
const { taskQueue } = suite;

/** What a person (or another tool) does: take the proxy down by hand. */
async function disableByHand(proxy: string): Promise<void> {
  const answer = await fetch(`${toxiproxyUrl()}/proxies/${proxy}`, {
    method: 'PATCH',
    body: JSON.stringify({ enabled: false }),
  });
  expect(answer.status).toBe(200);
}

describe('a down fault', () => {
  it('refuses a proxy someone else disabled, before anything runs, and leaves it disabled', async () => {
    const target = await startTarget();
    await disableByHand(target.proxy);
    const experiment = experimentFor(target, {
      // A steady state on another target: the one to take down is already down.
      steadyState: experimentFor(await startTarget('other')).steadyState,
      phases: [
        {
          name: 'outage',
          duration: '1s',
          faults: [{ name: 'svc-down', toxiproxy: { proxy: target.proxy, down: true } }],
        },
      ],
    });
    const { handle } = await startExperiment(suite.client, experiment, taskQueue);
    const result = await finished(handle);

    expect(result.verdict).toBe('not-started');
    expect(result.refused).toBe('invalid-target'); // exit 64
    expect(result.reason).toContain(
      `proxy ${target.proxy} on toxiproxy at ${toxiproxyUrl()} is already disabled`,
    );
    expect(result.reason).toContain('not by a gameday run');
    expect(result.journal.faults).toEqual([]);
    expect(await proxyState(target.proxy)).toEqual({ enabled: false, toxics: [] });
  });

  it('refuses at the inject a proxy disabled during an earlier phase, and its revert leaves it disabled', async () => {
    const target = await startTarget();
    const other = await startTarget('other');
    const experiment = experimentFor(other, {
      phases: [
        {
          name: 'slow',
          // Time to take the proxy down by hand before the next phase, under any load.
          duration: '4s',
          faults: [
            {
              name: 'other-slow',
              toxiproxy: { proxy: other.proxy, toxic: 'latency', attributes: { latency: 10 } },
            },
          ],
        },
        {
          name: 'outage',
          duration: '1s',
          faults: [{ name: 'svc-down', toxiproxy: { proxy: target.proxy, down: true } }],
        },
      ],
    });
    const { handle, plan } = await startExperiment(suite.client, experiment, taskQueue);
    await waitFor(async () => (await proxyState(other.proxy)).toxics.length > 0, { what: 'the first phase' });
    await disableByHand(target.proxy);
    const result = await finished(handle);

    expect(result.verdict).toBe('aborted');
    const down = result.journal.faults.find((f) => f.handle.name === 'svc-down');
    expect(down?.injectError).toContain(
      `proxy ${target.proxy} on toxiproxy at ${toxiproxyUrl()} is already disabled`,
    );
    expect(down?.alreadyGone).toBe(true);
    expect(down?.revertNote).toContain('is disabled, but not by this run: left disabled');
    expect(await proxyState(target.proxy)).toEqual({ enabled: false, toxics: [] });
    expect(await proxyState(other.proxy)).toEqual({ enabled: true, toxics: [] });
    expect(plan.phases[1]?.faults[0]).toMatchObject({
      toxiproxy: { action: 'down', marker: `gameday.${plan.runId}.svc-down` },
    });
  });

  it('knows its own proxy after a crash at any point of the inject, and names itself to other runs', async () => {
    const target = await startTarget();
    const handle: ToxiproxyHandle = {
      action: 'down',
      url: toxiproxyUrl(),
      proxy: target.proxy,
      marker: 'gameday.crashed-run.svc-down',
    };
    // The first attempt died after marking the proxy, before disabling it: the retry goes on.
    await fetch(`${toxiproxyUrl()}/proxies/${target.proxy}/toxics`, {
      method: 'POST',
      body: JSON.stringify({ name: handle.marker, type: 'latency', toxicity: 0, attributes: { latency: 0 } }),
    });
    expect(await injectToxiproxy(handle)).toEqual({ ...handle, enabledBefore: true });
    // A retry after the proxy went down is still ours, not "disabled by someone else".
    expect(await injectToxiproxy(handle)).toEqual({ ...handle, enabledBefore: true });
    expect(await proxyState(target.proxy)).toEqual({ enabled: false, toxics: [handle.marker] });

    // Another run's down fault sees whose it is, and changes nothing.
    const theirs: ToxiproxyHandle = { ...handle, marker: 'gameday.second-run.svc-down' };
    await expect(injectToxiproxy(theirs)).rejects.toThrow(
      /is already disabled \(by gameday run crashed-run, fault svc-down\); this run changed nothing/,
    );
    expect(await revertToxiproxy(theirs)).toMatchObject({ alreadyGone: true });
    expect(await proxyState(target.proxy)).toEqual({ enabled: false, toxics: [handle.marker] });

    expect(await revertToxiproxy(handle)).toEqual({ alreadyGone: false });
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    expect(await revertToxiproxy(handle)).toEqual({ alreadyGone: true });
  });
});
