/**
 * The property that matters most: a worker killed with SIGKILL mid-fault never leaves the fault
 * behind. The workers and the run are separate processes, as in production; the other worker,
 * already polling, picks the run up with the samples taken so far, finishes the phase and reverts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/report/journal';
import { readRun } from '../../src/temporal/run-status';
import {
  cliEnv,
  experimentFor,
  gameday,
  proxyState,
  scratchDir,
  startTarget,
  startWorkerProcess,
  testClient,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';

describe('a worker killed with SIGKILL mid-phase', () => {
  it('leaves no toxic behind: a new worker resumes the run and reverts', async () => {
    const target = await startTarget();
    const experiment = experimentFor(target, {
      guardrails: [
        { name: 'svc-up', probe: 'svc-ok', every: '100ms', window: 5, abortWhen: { errorRate: 0.8 } },
      ],
      phases: [
        {
          name: 'slow',
          // Long enough that the ~3s nobody watches after the kill stays a small share of the phase.
          duration: '30s',
          faults: [
            {
              name: 'svc-latency',
              toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 30 } },
            },
          ],
        },
      ],
    });
    const file = await writeExperiment(experiment);
    const env = cliEnv(uniqueName('crash'));
    const out = await scratchDir('out');
    const runId = uniqueName('crash');
    const toxic = `gameday.${runId}.svc-latency`;

    // Two workers poll, as in production; the one running the watch is killed.
    const workers = [await startWorkerProcess(env), await startWorkerProcess(env)];
    const run = gameday(['run', file, '--out', out, '--id', runId], env);
    await waitFor(async () => (await proxyState(target.proxy)).toxics.includes(toxic), { what: 'the toxic' });
    // Mid-phase for real: the watch has sampled and its heartbeat reached the server.
    const client = await testClient();
    await waitFor(
      async () => {
        const view = await readRun(client, runId);
        return view.state === 'running' && view.live.some((summary) => summary.samples > 0);
      },
      { what: 'the watch to heartbeat samples' },
    );
    // At a moment unrelated to the heartbeat schedule: whatever was sampled since the last one
    // that reached Temporal is lost with the worker.
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 2_000));
    const { raw } = await client.workflow.getHandle(runId).describe();
    await client.connection.close();
    const watching = raw.pendingActivities?.find((a) => a.activityType?.name === 'watchPhase');
    const first = workers.find((w) => watching?.lastWorkerIdentity?.startsWith(`${w.child.pid}@`));
    if (!first) throw new Error(`the watch runs on ${watching?.lastWorkerIdentity}, not on a test worker`);
    const second = workers.find((w) => w !== first) as (typeof workers)[number];

    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await first.done).signal).toBe('SIGKILL');
    // Nobody has reverted it yet: the fault is still injected, the run still open.
    expect((await proxyState(target.proxy)).toxics).toContain(toxic);

    const { code, stdout } = await run.done;
    second.child.kill('SIGTERM');
    await second.done;

    // The ~3s nobody watched are a gap in a 30s phase: the guardrail still saw most of it, so the
    // run passes (a check that saw under 80% is not held: test/e2e/temporal-restart.test.ts).
    expect(stdout).toContain('PASSED');
    expect(code).toBe(0);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
    expect(journal.faults[0]).toMatchObject({ status: 'reverted', alreadyGone: false });
    const watch = journal.phases[0]?.watch;
    expect(watch?.attempts).toBe(2);
    expect(new Set(watch?.workers).size).toBe(2);
    expect(journal.events.map((e) => e.type)).toContain('watch.resumed');
    // The dead attempt's samples survived up to its last heartbeat, sent at most 250ms before the
    // kill (the SDK's own throttle would have allowed 2.4s); the journal shows both windows.
    const [dead, resumed] = watch?.attemptWindows ?? [];
    expect(dead?.worker).toBe(watch?.workers[0]);
    expect(dead?.savedUntil).toBeGreaterThan(killedAt - 1_000);
    expect(resumed?.startedAt).toBeGreaterThan(killedAt);
    const watched = (watch?.attemptWindows ?? []).reduce((ms, w) => ms + (w.savedUntil - w.startedAt), 0);
    expect(watch?.guardrails[0]?.samples).toBeGreaterThan((watched / 100) * 0.8 - 4);
    expect(watch?.guardrails[0]?.gaps?.length).toBeGreaterThan(0);
    await target.stop();
  }, 240_000);
});
