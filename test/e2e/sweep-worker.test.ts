/**
 * `gameday worker --sweep-every`: the worker sweeps on a timer, reverts an orphaned toxic only
 * after its grace period, and leaves a live run's toxic alone. The sweep looks at a whole
 * Toxiproxy server, so this file has one of its own.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/lab/ports';
import { startToxiproxy } from '../../src/lab/toxiproxy-server';
import {
  cliEnv,
  experimentFor,
  gameday,
  observeProxy,
  proxyState,
  scratchDir,
  startTarget,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';
import { PATIENCE_MS } from '../patience';

const GRACE_MS = 3_000;

describe('gameday worker --sweep-every', () => {
  it('reverts an orphaned toxic after the grace period and leaves a live run alone', async () => {
    const toxiproxy = await startToxiproxy(await freePort(), { timeoutMs: PATIENCE_MS });
    onTestFinished(() => toxiproxy.stop());
    const env = { ...cliEnv(uniqueName('sweeper')), TOXIPROXY_URL: toxiproxy.url };
    const [orphaned, live] = await Promise.all([
      startTarget('orphaned', { toxiproxy: toxiproxy.url }),
      startTarget('live', { toxiproxy: toxiproxy.url }),
    ]);
    // Left by a run this Temporal server has never heard of.
    const orphan = `gameday.${uniqueName('gone')}.slow`;
    const added = await fetch(`${toxiproxy.url}/proxies/${orphaned.proxy}/toxics`, {
      method: 'POST',
      body: JSON.stringify({ name: orphan, type: 'latency', attributes: { latency: 10 } }),
    });
    expect(added.ok).toBe(true);

    const liveId = uniqueName('live');
    const experiment = experimentFor(live, {
      settings: { toxiproxy: { url: toxiproxy.url } },
      phases: [
        {
          name: 'long',
          duration: '10m',
          faults: [
            { name: 'slow', toxiproxy: { proxy: live.proxy, toxic: 'latency', attributes: { latency: 5 } } },
          ],
        },
      ],
    });
    const seen = observeProxy(orphaned.proxy, 50, toxiproxy.url);
    const worker = gameday(['worker', '--sweep-every', '1s', '--sweep-grace', `${GRACE_MS / 1000}s`], env);
    const firstSeen = waitFor(
      () =>
        worker
          .output()
          .includes(`sweep: orphaned, reverted after 3s unless its run comes back: toxic ${orphan}`) &&
        Date.now(),
      { what: () => `the worker to see the orphan: ${worker.output()}` },
    );
    onTestFinished(async () => {
      worker.child.kill('SIGTERM');
      await worker.done;
    });
    await waitFor(() => worker.output().includes('worker polling'), {
      what: () => `the worker: ${worker.output()}`,
    });
    const run = gameday(
      ['run', await writeExperiment(experiment), '--id', liveId, '--out', await scratchDir('sweeper')],
      env,
    );
    await waitFor(async () => (await proxyState(live.proxy, toxiproxy.url)).toxics.length === 1, {
      what: 'the live run to inject',
    });

    const firstSeenAt = await firstSeen;
    await waitFor(() => worker.output().includes(`sweep: reverted toxic ${orphan}`), {
      what: () => `the worker to sweep the orphan: ${worker.output()}`,
    });
    await waitFor(() => seen.seen.some((s) => !s.toxics.includes(orphan)), { what: 'the toxic seen gone' });
    const states = await seen.stop();
    // In place for the whole grace period after the worker first saw it (less the moment it took
    // this test to read that line), then gone.
    const gone = states.find((s) => !s.toxics.includes(orphan));
    expect(gone).toBeDefined();
    expect((gone?.at ?? 0) - Number(firstSeenAt)).toBeGreaterThanOrEqual(GRACE_MS - 250);
    expect(await proxyState(orphaned.proxy, toxiproxy.url)).toEqual({ enabled: true, toxics: [] });

    // The live run's toxic is never touched.
    expect(await proxyState(live.proxy, toxiproxy.url)).toEqual({
      enabled: true,
      toxics: [`gameday.${liveId}.slow`],
    });
    expect(worker.output()).not.toContain(`gameday.${liveId}`);

    await gameday(['abort', liveId, '--reason', 'test done'], env).done;
    expect((await run.done).code).toBe(2);
  }, 180_000);
});

describe('bad input to the lever, the sweep and the timed sweep', () => {
  it('is refused with 64 and one line, before anything is touched', async () => {
    const env = cliEnv(uniqueName('bad'));
    const cases: [string[], string][] = [
      [['sweep', '--toxiproxy', 'not a url'], 'gameday: --toxiproxy not a url: not a URL'],
      [['sweep', '--aws'], 'gameday: --aws needs AWS_REGION'],
      [['worker', '--sweep-every', 'soon'], 'gameday: --sweep-every soon: "soon" is not a duration'],
      [['worker', '--sweep-every', '10ms'], 'gameday: --sweep-every 10ms: at least 1s'],
      [['lever', 'engage'], "required option '--reason <text>' not specified"],
      [['lever', 'engage', '--reason', ' '], 'gameday: --reason must say why'],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await gameday(args, {
        ...env,
        AWS_REGION: undefined,
        AWS_DEFAULT_REGION: undefined,
      }).done;
      expect(code, `${args.join(' ')}: ${stdout}${stderr}`).toBe(64);
      expect(stderr).toContain(message);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stdout).not.toContain('worker polling');
    }
  });
});
