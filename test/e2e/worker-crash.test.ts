/**
 * The property that matters most: a worker killed with SIGKILL mid-fault never leaves the fault
 * behind. The worker and the run are separate processes, as in production; a new worker process
 * picks the run up, finishes the phase and reverts.
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
          duration: '8s',
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

    const first = await startWorkerProcess(env);
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
    await client.connection.close();

    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    // Nobody is left to revert it yet: the fault is still injected, the run still open.
    expect((await proxyState(target.proxy)).toxics).toContain(toxic);

    const second = await startWorkerProcess(env);
    const { code, stdout } = await run.done;
    second.child.kill('SIGTERM');
    await second.done;

    // The seconds no worker watched are a gap: a guardrail that saw so little of its phase is not
    // held, so the run is deviated for that alone, never for what it measured.
    expect(stdout).toContain('DEVIATED too few samples to hold: guardrail svc-up in slow saw');
    expect(code).toBe(1);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
    expect(journal.faults[0]).toMatchObject({ status: 'reverted', alreadyGone: false });
    const watch = journal.phases[0]?.watch;
    expect(watch?.attempts).toBe(2);
    expect(new Set(watch?.workers).size).toBe(2);
    expect(journal.events.map((e) => e.type)).toContain('watch.resumed');
    expect(watch?.guardrails[0]?.gaps?.length).toBeGreaterThan(0);
    await target.stop();
  });
});
