/**
 * The Temporal server killed mid-phase and restarted on its own database: the run resumes and
 * reverts, and the journal says what it did not see. The samples the watch could not hand over
 * while the server was gone are a gap in the record, the guardrail that lost them is not "held",
 * and the report draws the hole instead of a line across it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadExperiment } from '../../src/experiment/load';
import { planRun } from '../../src/experiment/plan';
import { freePort } from '../../src/lab/ports';
import type { Journal } from '../../src/report/journal';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server';
import { readRun } from '../../src/temporal/run-status';
import { startRun } from '../../src/temporal/start-run';
import { openReport } from '../browser';
import {
  experimentFor,
  proxyState,
  scratchDir,
  startTarget,
  startWorkerProcess,
  toxiproxyUrl,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';

const OUTAGE_MS = 5_000;

describe('the Temporal server killed mid-phase and restarted on its database', () => {
  it('resumes and reverts, and the journal and the report show the gap', async () => {
    const home = await scratchDir('temporal-restart');
    const dbFile = join(home, 'temporal.db');
    const port = await freePort();
    let server: DevServer = await startDevServer({ port, dbFile });
    onTestFinished(() => server.stop());

    const target = await startTarget();
    const experiment = experimentFor(target, {
      guardrails: [
        { name: 'svc-up', probe: 'svc-ok', every: '100ms', window: 5, abortWhen: { errorRate: 0.9 } },
      ],
      phases: [
        {
          name: 'slow',
          duration: '20s',
          faults: [
            {
              name: 'svc-latency',
              toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 5 } },
            },
          ],
          expect: [{ probe: 'svc-ok', every: '100ms', expect: { errorRate: 0 } }],
        },
      ],
    });
    const loaded = await loadExperiment(await writeExperiment(experiment));
    const runId = uniqueName('restart');
    const outDir = join(home, 'runs', runId);
    const plan = planRun(loaded.experiment, {
      runId,
      file: loaded.file,
      sha256: loaded.sha256,
      outDir,
      env: {},
    });
    const taskQueue = uniqueName('restart');
    const env = {
      TEMPORAL_ADDRESS: server.address,
      TOXIPROXY_URL: toxiproxyUrl(),
      GAMEDAY_TASK_QUEUE: taskQueue,
    };
    let worker = await startWorkerProcess(env);

    const client = new Client({ connection: await Connection.connect({ address: server.address }) });
    await startRun(client, plan, taskQueue);
    // Mid-phase for real: the toxic in place and the watch's heartbeat on the server.
    await waitFor(
      async () => {
        const view = await readRun(client, runId);
        return view.state === 'running' && view.live.some((summary) => summary.samples >= 30);
      },
      { what: 'the watch to heartbeat samples' },
    );
    await client.connection.close();
    expect((await proxyState(target.proxy)).toxics).toContain(`gameday.${runId}.svc-latency`);

    server.process.kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise((resolve) => server.process.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    server = await startDevServer({ port, dbFile });
    // A worker that gave up on the server while it was gone is replaced, as an operator would.
    if (worker.child.exitCode !== null) worker = await startWorkerProcess(env);

    await waitFor(() => existsSync(join(outDir, 'journal.json')), {
      what: 'the resumed run to write its journal',
      timeoutMs: 90_000,
    });
    worker.child.kill('SIGTERM');
    await worker.done;

    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    const journal: Journal = JSON.parse(await readFile(join(outDir, 'journal.json'), 'utf8'));
    expect(journal.faults[0]).toMatchObject({ status: 'reverted' });
    const watch = journal.phases[0]?.watch;
    const guardrail = watch?.guardrails[0];
    if (!guardrail) throw new Error('the journal has no guardrail summary');

    // Either the watch's samples of the outage were lost with its attempt (the server timed it out
    // and a new attempt resumed from the last heartbeat), and the journal knows how much it
    // missed; or the attempt lived through the outage on a worker that kept sampling, and its
    // samples cover it. Which one is the server's timing; losing samples silently is neither.
    const gap = guardrail.gaps?.find((g) => g.from <= killedAt && g.to >= killedAt + OUTAGE_MS);
    const report = await openReport(join(outDir, 'report.html'));
    try {
      const figure = report.page.locator('figure[data-probe="svc-up"]');
      if (gap) {
        expect(gap.missed).toBeGreaterThanOrEqual(OUTAGE_MS / 100 - 5);
        expect(guardrail.expected).toBeGreaterThan(guardrail.samples);
        expect(watch?.expectations[0]?.summary.gaps?.length).toBeGreaterThan(0);
        // Half a phase unseen is not a phase that held.
        if (guardrail.samples / (guardrail.expected ?? 1) < 0.8) {
          expect(journal.verdict).toBe('deviated');
          expect(journal.reason).toMatch(
            /too few samples to hold: guardrail svc-up in slow saw \d+ of ~\d+ samples/,
          );
        }
        expect(await figure.locator('.gap-band').count()).toBeGreaterThanOrEqual(2);
        // No line crosses the gap: each series path starts again after it.
        for (const d of await figure
          .locator('.series path')
          .evaluateAll((paths) => paths.map((p) => p.getAttribute('d') ?? '')))
          expect(d.match(/M/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
        // The guardrail and the expectation both lost samples; whichever missed its first one
        // earlier is listed first.
        const gapLines = await report.page.locator('ul.gaps li').allTextContents();
        expect(gapLines.some((line) => line.startsWith('svc-ok in slow: '))).toBe(true);
        expect(gapLines.find((line) => line.startsWith('svc-up '))).toMatch(
          /^svc-up in slow: no samples for [\d.]+s from \+[\d.m]+s \(\d+ planned samples missed\)$/,
        );
      } else {
        const during = (guardrail.gaps ?? []).filter(
          (g) => g.to >= killedAt && g.from <= killedAt + OUTAGE_MS,
        );
        expect(during, JSON.stringify(guardrail.gaps)).toEqual([]);
        expect(guardrail.samples).toBeGreaterThanOrEqual(
          0.8 * (guardrail.expected ?? Number.POSITIVE_INFINITY),
        );
        expect(await figure.locator('.gap-band').count()).toBe(0);
      }
      await report.screenshot('report-temporal-restart');
      expect(report.complaints).toEqual([]);
    } finally {
      await report.close();
    }
  }, 180_000);
});
