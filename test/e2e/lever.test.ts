/**
 * The safety lever as an SRE pulls it in an incident: runs at a gate and mid-phase all abort and
 * revert, the schedule pauses, a new run, an approval and a scheduled firing are refused with the
 * reason, the lever survives a worker SIGKILL and a Temporal restart on its database, engaging it
 * twice changes nothing, and release lets runs start again. The lever is namespace-wide, so this
 * file has a Temporal dev server of its own: it must not abort the other tests' runs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ExperimentInput } from '../../src/experiment/schema';
import { freePort } from '../../src/lab/ports';
import type { Journal } from '../../src/report/journal';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server';
import { readRun } from '../../src/temporal/run-status';
import { scheduledRunId } from '../../workflows/scheduled-run';
import {
  type CliProcess,
  experimentFor,
  gameday,
  proxyState,
  scratchDir,
  startTarget,
  startWorkerProcess,
  type Target,
  toxiproxyUrl,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';

const REASON = 'INC-4242: us-east-1 DynamoDB endpoint not resolving';
const NEVER = `${new Date().getUTCFullYear() + 1}-06-01T12:00Z`;

function longPhase(target: Target, fault: 'toxic' | 'down'): ExperimentInput {
  return experimentFor(target, {
    phases: [
      {
        name: 'long',
        duration: '5m',
        faults: [
          fault === 'toxic'
            ? {
                name: 'slow',
                toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 30 } },
              }
            : { name: 'cut', toxiproxy: { proxy: target.proxy, down: true } },
        ],
      },
    ],
    // The probe runs through the proxy that `down` takes away: the steady state after is not the point.
    recovery: { within: '5s' },
  });
}

function gated(target: Target): ExperimentInput {
  return experimentFor(target, {
    phases: [
      {
        name: 'warm-up',
        duration: '200ms',
        faults: [
          { name: 'warm', toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 5 } } },
        ],
      },
      {
        name: 'gated',
        duration: '5m',
        gate: { approval: 'required', timeout: '10m' },
        faults: [
          { name: 'slow', toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 30 } } },
        ],
      },
    ],
  });
}

describe('gameday lever', () => {
  it('stops every run and schedule, refuses new ones with 75 until released, and survives restarts', async () => {
    const home = await scratchDir('lever');
    const dbFile = join(home, 'temporal.db');
    const port = await freePort();
    let server: DevServer = await startDevServer({ port, dbFile });
    onTestFinished(() => server.stop());
    const env = {
      TEMPORAL_ADDRESS: server.address,
      TOXIPROXY_URL: toxiproxyUrl(),
      GAMEDAY_TASK_QUEUE: uniqueName('lever'),
    };
    let worker = await startWorkerProcess(env);
    onTestFinished(async () => {
      worker.child.kill('SIGTERM');
      await worker.done;
    });
    const client = new Client({ connection: await Connection.connect({ address: server.address }) });
    onTestFinished(() => client.connection.close());
    const out = await scratchDir('lever-runs');

    const [atGate, slowed, cut, later] = await Promise.all([
      startTarget('gate'),
      startTarget('slow'),
      startTarget('cut'),
      startTarget('later'),
    ]);
    const start = async (experiment: ExperimentInput) => {
      const runId = uniqueName('run');
      const file = await writeExperiment(experiment);
      return { runId, cli: gameday(['run', file, '--id', runId, '--out', out], env) };
    };
    const runs = await Promise.all([
      start(gated(atGate)),
      start(longPhase(slowed, 'toxic')),
      start(longPhase(cut, 'down')),
    ]);
    const gate = runs[0] as { runId: string; cli: CliProcess };
    await waitFor(
      async () => {
        const view = await readRun(client, gate.runId);
        return view.state === 'running' && view.status.waiting?.phase === 'gated';
      },
      { what: 'the gated run to wait at its gate' },
    );
    await waitFor(async () => (await proxyState(slowed.proxy)).toxics.length === 1, {
      what: 'the toxic in place',
    });
    await waitFor(async () => !(await proxyState(cut.proxy)).enabled, { what: 'the proxy taken down' });

    const scheduleId = uniqueName('nightly');
    const laterFile = await writeExperiment(experimentFor(later));
    const scheduled = await gameday(
      ['schedule', 'create', laterFile, '--at', NEVER, '--id', scheduleId, '--out', out],
      env,
    ).done;
    expect(scheduled.code, scheduled.stderr).toBe(0);
    onTestFinished(() =>
      client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined),
    );

    const engaged = await gameday(['lever', 'engage', '--reason', REASON, '--by', 'alice'], env).done;
    expect(engaged.code, engaged.stderr).toBe(0);
    expect(engaged.stdout).toContain(`the safety lever is engaged by alice since`);
    expect(engaged.stdout).toContain('aborting 3 run(s)');
    expect(engaged.stdout).toContain(`paused 1 schedule(s): ${scheduleId}`);

    // Every run aborts, rolls back, and says why in its journal.
    for (const run of runs) {
      const { code, stdout } = await run.cli.done;
      expect(code, stdout).toBe(2);
      const journal: Journal = JSON.parse(await readFile(join(out, run.runId, 'journal.json'), 'utf8'));
      expect(journal.verdict).toBe('aborted');
      expect(journal.reason).toContain(REASON);
      expect(journal.reason).toContain('alice');
      expect(journal.faults.every((fault) => fault.status === 'reverted')).toBe(true);
    }
    for (const target of [atGate, slowed, cut])
      expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });

    const schedule = await client.schedule.getHandle(scheduleId).describe();
    expect(schedule.state.paused).toBe(true);
    expect(schedule.state.note).toContain(REASON);

    const refused = async (args: string[]) => {
      const { code, stderr } = await gameday(args, env).done;
      expect(code, stderr).toBe(75);
      expect(stderr).toContain('engaged by alice since');
      expect(stderr).toContain(REASON);
      return stderr;
    };
    const newRunId = uniqueName('refused');
    await refused(['run', laterFile, '--id', newRunId, '--out', out]);
    await expect(client.workflow.getHandle(newRunId).describe()).rejects.toThrow();
    await refused(['approve', gate.runId]);

    // A firing due now is refused too: it starts no run.
    const triggered = await gameday(['schedule', 'trigger', scheduleId], env).done;
    expect(triggered.code, triggered.stderr).toBe(0);
    const firing = await waitFor(
      async () => (await client.schedule.getHandle(scheduleId).describe()).info.recentActions[0],
      { what: 'the triggered firing' },
    );
    await expect(client.workflow.getHandle(firing.action.workflow.workflowId).result()).rejects.toMatchObject(
      {
        cause: {
          message: expect.stringMatching(
            /^firing refused, no run started: the safety lever is engaged by alice/,
          ),
        },
      },
    );
    await expect(
      client.workflow.getHandle(scheduledRunId(firing.action.workflow.workflowId)).describe(),
    ).rejects.toThrow();

    const status = await gameday(['status'], env).done;
    expect(status.stdout).toContain(`the safety lever is engaged by alice since`);
    expect(status.stdout).toContain(REASON);

    // The lever is Temporal's state: no worker and no server restart loses it.
    worker.child.kill('SIGKILL');
    await worker.done;
    server.process.kill('SIGKILL');
    await new Promise((resolve) => server.process.once('exit', resolve));
    server = await startDevServer({ port, dbFile });
    const leverStatus = await gameday(['lever', 'status'], env).done;
    expect(leverStatus.code, leverStatus.stderr).toBe(0);
    expect(leverStatus.stdout).toContain(`the safety lever is engaged by alice since`);
    expect(leverStatus.stdout).toContain(REASON);
    worker = await startWorkerProcess(env);

    const again = await gameday(['lever', 'engage', '--reason', 'someone else', '--by', 'bob'], env).done;
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('engaging it again changes nothing');
    expect(again.stdout).toContain(REASON);
    await refused(['run', laterFile, '--out', out]);

    const released = await gameday(['lever', 'release', '--by', 'carol'], env).done;
    expect(released.code, released.stderr).toBe(0);
    expect(released.stdout).toContain(
      `released by carol; runs may start again; unpaused 1 schedule(s): ${scheduleId}`,
    );
    expect((await client.schedule.getHandle(scheduleId).describe()).state.paused).toBe(false);
    expect((await gameday(['lever', 'status'], env).done).stdout).toContain(
      'the safety lever is not engaged',
    );

    const after = await gameday(['run', laterFile, '--out', out], env).done;
    expect(after.code, after.stdout + after.stderr).toBe(0);
  }, 240_000);
});
