/**
 * A worker killed with SIGKILL between two faults' starts: the timeline lives in the workflow's
 * history (durable timers), so the other worker, already polling, injects the late fault at its
 * offset, reverts it at its own end, finishes the phase and leaves nothing behind.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/report/journal';
import {
  cliEnv,
  experimentFor,
  gameday,
  observeProxy,
  proxyState,
  scratchDir,
  startTarget,
  startWorkerProcess,
  testClient,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';

describe('a worker killed with SIGKILL between two faults of a phase', () => {
  it('resumes: the late fault goes in at its offset, out at its end, and nothing is left', async () => {
    const target = await startTarget();
    const experiment = experimentFor(target, {
      phases: [
        {
          name: 'overlap',
          duration: '16s',
          faults: [
            {
              name: 'whole',
              toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 5 } },
            },
            {
              name: 'late',
              startAfter: '9s',
              duration: '3s',
              toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 50 } },
            },
          ],
        },
      ],
    });
    const file = await writeExperiment(experiment);
    const env = cliEnv(uniqueName('timeline-crash'));
    const out = await scratchDir('out');
    const runId = uniqueName('timeline-crash');
    const whole = `gameday.${runId}.whole`;
    const late = `gameday.${runId}.late`;

    const workers = [await startWorkerProcess(env), await startWorkerProcess(env)];
    const observer = observeProxy(target.proxy, 20);
    const run = gameday(['run', file, '--out', out, '--id', runId], env);
    await waitFor(async () => (await proxyState(target.proxy)).toxics.includes(whole), {
      what: 'the first fault',
    });
    const client = await testClient();
    // The watch has started on a worker: that one is killed, mid-phase.
    const watching = await waitFor(
      async () => {
        const { raw } = await client.workflow.getHandle(runId).describe();
        const watch = raw.pendingActivities?.find((a) => a.activityType?.name === 'watchPhase');
        return watch?.lastWorkerIdentity ? watch : null;
      },
      { what: 'the phase watch to run on a worker' },
    );
    await client.connection.close();
    const first = workers.find((w) => watching?.lastWorkerIdentity?.startsWith(`${w.child.pid}@`));
    if (!first) throw new Error(`the watch runs on ${watching?.lastWorkerIdentity}, not on a test worker`);
    const second = workers.find((w) => w !== first) as (typeof workers)[number];

    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await first.done).signal).toBe('SIGKILL');
    // Killed between the two starts: the first fault is in, the late one not yet.
    expect((await proxyState(target.proxy)).toxics).toEqual([whole]);

    const { code, stdout } = await run.done;
    const seen = await observer.stop();
    second.child.kill('SIGTERM');
    await second.done;

    expect(stdout).toContain('PASSED');
    expect(code).toBe(0);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
    const clock = journal.phases[0]?.watch?.startedAt ?? Number.NaN;
    const fault = (name: string) => journal.faults.find((f) => f.handle.name === name);
    expect(journal.faults.map((f) => [f.handle.name, f.status])).toEqual([
      ['whole', 'reverted'],
      ['late', 'reverted'],
    ]);
    expect(journal.phases[0]?.watch?.attempts).toBe(2);
    // The late fault went in after the kill, at its offset, and came out at its own end.
    const lateSeen = seen.filter((s) => s.toxics.includes(late)).map((s) => s.at);
    expect(lateSeen.length).toBeGreaterThan(10);
    expect(Math.min(...lateSeen)).toBeGreaterThan(killedAt);
    expect(Math.min(...lateSeen)).toBeGreaterThanOrEqual(clock + 9_000 - 20);
    expect(fault('late')?.injectedAt).toBeGreaterThanOrEqual(clock + 9_000);
    expect(fault('late')?.revertedAt).toBeGreaterThanOrEqual(clock + 12_000);
    expect(fault('late')?.revertedAt).toBeLessThan(fault('whole')?.revertedAt ?? 0);
    // The first fault stayed after the late one was gone, until the phase ended.
    const wholeAfter = seen.filter((s) => s.toxics.includes(whole) && s.at > Math.max(...lateSeen) + 100);
    expect(wholeAfter.length).toBeGreaterThan(10);
    await target.stop();
  }, 240_000);
});
