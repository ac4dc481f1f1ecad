/**
 * `gameday run` as a user runs it, against the suite's Temporal and Toxiproxy servers: exit codes,
 * what is left on the Toxiproxy server (nothing), and what the journal says.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/lab/ports';
import { startToxiproxy } from '../../src/lab/toxiproxy-server';
import type { Journal } from '../../src/report/journal';
import {
  cliEnv,
  experimentFor,
  gameday,
  proxyState,
  scratchDir,
  startTarget,
  type Target,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';
import { startReceiver } from '../webhook-receiver';

async function readJournal(outDir: string, runId: string): Promise<Journal> {
  return JSON.parse(await readFile(join(outDir, runId, 'journal.json'), 'utf8'));
}

/** An experiment whose one phase injects `fault` for a long time, so a test can act on it. */
function longPhase(target: Target, fault: object, overrides: object = {}) {
  return experimentFor(target, {
    phases: [{ name: 'long', duration: '2m', faults: [{ name: 'svc-fault', toxiproxy: fault }] as never }],
    ...overrides,
  });
}

describe('gameday run', () => {
  it('exits 2 on a guardrail breach, writes the journal, tells webhooks and leaves nothing on the server', async () => {
    const target = await startTarget();
    const receiver = await startReceiver();
    const file = await writeExperiment(
      experimentFor(target, {
        notify: [{ url: `${receiver.url}/hook`, format: 'json' }],
        guardrails: [
          { name: 'svc-up', probe: 'svc-ok', every: '25ms', window: 4, abortWhen: { errorRate: 0.5 } },
        ],
        phases: [
          {
            name: 'resets',
            duration: '1m',
            faults: [
              { name: 'svc-reset', toxiproxy: { proxy: target.proxy, toxic: 'reset_peer', attributes: {} } },
            ],
          },
        ],
      }),
    );
    const out = await scratchDir('out');
    const runId = uniqueName('breach');
    const { code, stdout } = await gameday(
      ['run', '--local', file, '--out', out, '--id', runId],
      cliEnv(uniqueName('q')),
    ).done;

    expect(code).toBe(2);
    expect(stdout).toContain('ABORTED guardrail svc-up breached: errorRate');
    expect(stdout).toContain(`journal: ${join(out, runId, 'journal.json')}`);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    const journal = await readJournal(out, runId);
    expect(journal.verdict).toBe('aborted');
    expect(journal.faults[0]?.status).toBe('reverted');
    expect(await readFile(join(out, runId, 'report.md'), 'utf8')).toContain('guardrail svc-up breached');
    expect(receiver.at('/hook').map((body) => body.event)).toEqual([
      'run-started',
      'guardrail-breach',
      'aborted',
      'finished',
    ]);
    expect(receiver.at('/hook')[3]).toMatchObject({ runId, verdict: 'aborted' });
    expect(await readFile(join(out, runId, 'junit.xml'), 'utf8')).toMatch(
      /<failure message="guardrail svc-up breached: errorRate/,
    );
    expect(await readFile(join(out, runId, 'report.html'), 'utf8')).toContain('class="marker breach-marker"');
    await target.stop();
  });

  it('refuses an unknown report format with exit 64 before anything runs', async () => {
    const { code, stderr } = await gameday(
      ['run', '--report', 'html,pdf', 'no-such-file.yaml'],
      cliEnv(uniqueName('q')),
    ).done;
    expect(code).toBe(64);
    expect(stderr).toContain('unknown format pdf; choose from html,md,junit,json');
  });

  it('is aborted by `gameday abort` from another process (exit 2), with nothing left', async () => {
    const target = await startTarget();
    const file = await writeExperiment(longPhase(target, { proxy: target.proxy, down: true }));
    const out = await scratchDir('out');
    const runId = uniqueName('abort');
    const env = cliEnv(uniqueName('q'));
    const run = gameday(['run', '--local', file, '--out', out, '--id', runId], env);
    await waitFor(async () => !(await proxyState(target.proxy)).enabled, { what: 'the proxy to go down' });

    const abort = await gameday(['abort', runId, '--reason', 'pager went off', '--by', 'sre-on-call'], env)
      .done;
    expect(abort.code).toBe(0);
    const { code, stdout } = await run.done;

    expect(code).toBe(2);
    expect(stdout).toContain('ABORTED abort by sre-on-call: pager went off');
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    const journal = await readJournal(out, runId);
    expect(journal.signals).toMatchObject([{ type: 'abort', by: 'sre-on-call', reason: 'pager went off' }]);
    await target.stop();
  });

  it('asks the run to abort on Ctrl-C and waits for the rollback (exit 2)', async () => {
    const target = await startTarget();
    const file = await writeExperiment(
      longPhase(target, { proxy: target.proxy, toxic: 'timeout', attributes: { timeout: 0 } }),
    );
    const out = await scratchDir('out');
    const runId = uniqueName('ctrl-c');
    const run = gameday(['run', '--local', file, '--out', out, '--id', runId], cliEnv(uniqueName('q')));
    await waitFor(async () => (await proxyState(target.proxy)).toxics.length > 0, { what: 'the toxic' });

    run.child.kill('SIGINT');
    const { code, stdout } = await run.done;
    expect(stdout).toContain('aborting: every fault is being rolled back');
    expect(stdout).toMatch(/ABORTED abort by .*: interrupted from the terminal \(Ctrl-C\)/);
    expect(code).toBe(2);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    await target.stop();
  });

  it('refuses a second run of the same experiment while one is in progress (exit 75), naming it', async () => {
    const target = await startTarget();
    const file = await writeExperiment(
      longPhase(target, { proxy: target.proxy, toxic: 'latency', attributes: { latency: 5 } }),
    );
    const env = cliEnv(uniqueName('q'));
    const out = await scratchDir('out');
    const firstId = uniqueName('first');
    const first = gameday(['run', '--local', file, '--out', out, '--id', firstId], env);
    await waitFor(async () => (await proxyState(target.proxy)).toxics.length > 0, {
      what: 'the first run to inject',
    });

    const second = await gameday(['run', '--local', file, '--out', out], env).done;
    expect(second.code).toBe(75);
    expect(second.stderr).toContain(`is locked by run ${firstId}, which is still in progress`);
    expect((await proxyState(target.proxy)).toxics).toEqual([`gameday.${firstId}.svc-fault`]);

    await gameday(['abort', firstId, '--reason', 'done'], env).done;
    expect((await first.done).code).toBe(2);
    await target.stop();
  });

  it('exits 64 without injecting anything when a fault names a proxy that does not exist', async () => {
    const target = await startTarget();
    const file = await writeExperiment(longPhase(target, { proxy: 'no-such-proxy', down: true }));
    const { code, stdout } = await gameday(
      ['run', '--local', file, '--out', await scratchDir('out')],
      cliEnv(uniqueName('q')),
    ).done;
    expect(code).toBe(64);
    expect(stdout).toContain('no proxy named no-such-proxy');
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    await target.stop();
  });

  it('exits 69 when Temporal is unreachable, saying how to start it or to use --local', async () => {
    const file = 'experiments/examples/checkout-latency.yaml';
    const port = await freePort();
    const { code, stderr } = await gameday(['run', file], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` }).done;
    expect(code).toBe(69);
    expect(stderr).toContain(`Temporal is not reachable at 127.0.0.1:${port}`);
    expect(stderr).toContain('--local');
    expect(stderr).toContain('temporal server start-dev');
  });
});

describe('gameday run when Toxiproxy goes away during rollback', () => {
  async function withOwnToxiproxy() {
    const port = await freePort();
    const server = await startToxiproxy(port);
    const target = await startTarget('own', { declareOnly: true });
    onTestFinished(async () => {
      await server.stop();
      await target.stop();
    });
    return { port, server, target };
  }

  function declaring(target: Target, url: string, { rollbackTimeout = '10m', recoveryWithin = '5s' } = {}) {
    return longPhase(
      target,
      { proxy: target.proxy, toxic: 'latency', attributes: { latency: 5 } },
      {
        settings: {
          toxiproxy: {
            url,
            proxies: [{ name: target.proxy, listen: target.listen, upstream: target.upstream }],
          },
          rollbackTimeout,
        },
        recovery: { within: recoveryWithin },
      },
    );
  }

  it('keeps retrying, says so in status, and finishes the rollback when it is back', async () => {
    const own = await withOwnToxiproxy();
    const file = await writeExperiment(declaring(own.target, own.server.url));
    const env = { ...cliEnv(uniqueName('q')), TOXIPROXY_URL: own.server.url };
    const out = await scratchDir('out');
    const runId = uniqueName('flaky');
    const run = gameday(['run', '--local', file, '--out', out, '--id', runId], env);
    await waitFor(async () => (await proxyState(own.target.proxy, own.server.url)).toxics.length > 0, {
      what: 'the toxic',
    });

    await own.server.stop();
    expect((await gameday(['abort', runId, '--reason', 'test'], env).done).code).toBe(0);
    // Temporal retries a revert once by itself before the workflow's own loop sees the failure,
    // so the activity's line says "unreachable" before the fault's line does: wait for the fault's.
    const faultRetrying =
      /svc-fault: reverting \(attempt \d+, last error: toxiproxy at http:\/\/127\.0\.0\.1:\d+ is unreachable/;
    const status = await waitFor(
      async () => {
        const { stdout } = await gameday(['status', runId], env).done;
        return faultRetrying.test(stdout) ? stdout : null;
      },
      {
        what: "status to say the fault's revert is retrying against the unreachable server",
        intervalMs: 200,
      },
    );
    expect(status).toMatch(faultRetrying);

    const restarted = await startToxiproxy(own.port);
    onTestFinished(() => restarted.stop());
    const { code } = await run.done;
    expect(code).toBe(2);
    const journal = await readJournal(out, runId);
    expect(journal.faults[0]).toMatchObject({ status: 'reverted', alreadyGone: true });
    expect(journal.faults[0]?.revertAttempts).toBeGreaterThan(1);
    await restarted.stop();
    await own.target.stop();
  });

  it('ends rollback-failed (exit 3) and says loudly what is still injected when it never comes back', async () => {
    const own = await withOwnToxiproxy();
    const receiver = await startReceiver();
    const file = await writeExperiment({
      ...declaring(own.target, own.server.url, { rollbackTimeout: '1s', recoveryWithin: '1s' }),
      notify: [{ url: `${receiver.url}/hook`, format: 'slack', events: ['rollback-failed'] }],
    });
    const env = { ...cliEnv(uniqueName('q')), TOXIPROXY_URL: own.server.url };
    const out = await scratchDir('out');
    const runId = uniqueName('stuck');
    const run = gameday(['run', '--local', file, '--out', out, '--id', runId], env);
    await waitFor(async () => (await proxyState(own.target.proxy, own.server.url)).toxics.length > 0, {
      what: 'the toxic',
    });
    await own.server.stop();
    await gameday(['abort', runId, '--reason', 'test'], env).done;

    const { code, stdout } = await run.done;
    expect(code).toBe(3);
    expect(stdout).toContain('ROLLBACK-FAILED could not undo: fault svc-fault');
    expect(stdout).toContain(
      `STILL INJECTED: fault svc-fault: toxiproxy ${own.server.url} proxy ${own.target.proxy} toxic gameday.${runId}.svc-fault`,
    );
    const journal = await readJournal(out, runId);
    expect(journal.verdict).toBe('rollback-failed');
    expect(journal.remaining).toHaveLength(1);
    // Said once, at once, naming what someone has to remove by hand.
    expect(receiver.at('/hook')).toEqual([
      { text: `gameday ${journal.experiment.name} [${runId}]: ROLLBACK FAILED, STILL INJECTED: svc-fault` },
    ]);
    await own.target.stop();
  });
});
