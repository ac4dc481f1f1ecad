/**
 * The people side of a game day, as they live it: a phase that waits at a gate until someone
 * approves from another terminal, notes from observers, webhooks told in order, a gate nobody
 * opened in time, and a worker killed while the run waits at a gate.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExperimentInput } from '../../src/experiment/schema';
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
  type Target,
  testClient,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';
import { startReceiver } from '../webhook-receiver';

function gatedExperiment(
  target: Target,
  overrides: Partial<ExperimentInput> = {},
  duration = '1s',
): ExperimentInput {
  return experimentFor(target, {
    phases: [
      {
        name: 'gated',
        duration,
        gate: { approval: 'required', timeout: '2m' },
        faults: [
          {
            name: 'svc-latency',
            toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 20 } },
          },
        ],
      },
    ],
    ...overrides,
  });
}

async function waitAtGate(runId: string, phase: string): Promise<void> {
  const client = await testClient();
  try {
    await waitFor(
      async () => {
        const view = await readRun(client, runId);
        return view.state === 'running' && view.status.waiting?.phase === phase;
      },
      { what: `the run to wait at the gate of ${phase}` },
    );
  } finally {
    await client.connection.close();
  }
}

const readJournal = async (out: string, runId: string): Promise<Journal> =>
  JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));

describe('a game day with people in it', () => {
  it('waits at a gate until approved from another process, keeps the notes, and tells webhooks in order', async () => {
    const target = await startTarget();
    const receiver = await startReceiver((path) => (path === '/down' ? 500 : 200));
    const secret = uniqueName('hook-secret');
    const file = await writeExperiment(
      gatedExperiment(
        target,
        {
          notify: [
            { url: `${receiver.url}/slack/\${GAMEDAY_SECRET_HOOK}`, format: 'slack' },
            {
              url: `${receiver.url}/json`,
              format: 'json',
              events: ['run-started', 'gate-waiting', 'finished'],
            },
            // A dead webhook: noted in the journal, and the run passes all the same.
            { url: `${receiver.url}/down`, format: 'json', events: ['run-started'] },
          ],
        },
        // Long enough for an observer's note during the phase.
        '6s',
      ),
    );
    const env = { ...cliEnv(uniqueName('gate')), GAMEDAY_SECRET_HOOK: secret };
    const out = await scratchDir('out');
    const runId = uniqueName('gate');
    const worker = await startWorkerProcess(env);
    const run = gameday(['run', file, '--out', out, '--id', runId], env);

    await waitAtGate(runId, 'gated');
    const watching = gameday(['status', runId, '--watch'], env);
    const status = await gameday(['status', runId], env).done;
    expect(status.stdout).toMatch(
      new RegExp(`waiting for approval of phase gated since .*gameday approve ${runId}`),
    );
    expect((await proxyState(target.proxy)).toxics).toEqual([]);
    expect(
      (await gameday(['note', runId, 'dashboards green <b>before</b>', '--by', 'ana'], env).done).code,
    ).toBe(0);

    const stale = await gameday(['approve', runId, '--phase', 'another'], env).done;
    expect(stale.code).toBe(64);
    expect(stale.stderr).toContain('not approved: the run waits at the gate of phase gated, not another');
    const approved = await gameday(['approve', runId, '--by', 'ana'], env).done;
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain('approved: phase gated approved');

    await waitFor(async () => (await proxyState(target.proxy)).toxics.length > 0, {
      what: 'the gated fault',
    });
    const duringPhase = await gameday(['note', runId, 'p99 up a little', '--by', 'bo'], env).done;
    expect(duringPhase.code, duringPhase.stderr).toBe(0);
    const result = await run.done;
    worker.child.kill('SIGTERM');
    const workerOutput = (await worker.done).stdout;

    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    // `status --watch` followed the run from the gate to its verdict, then ended by itself.
    const watched = await watching.done;
    expect(watched.code).toBe(0);
    expect(watched.stdout).toContain('waiting for approval of phase gated');
    expect(watched.stdout).toMatch(/1 note\(s\); latest at .* by ana: dashboards green/);
    expect(watched.stdout).toMatch(/PASSED steady state held/);
    await waitFor(
      async () =>
        (await gameday(['runs', '--limit', '1000'], env).done).stdout.match(new RegExp(`${runId}  PASSED`)),
      {
        what: 'the run listed with its verdict',
      },
    );
    const journal = await readJournal(out, runId);
    expect(journal.notes.map((n) => [n.by, n.text])).toEqual([
      ['ana', 'dashboards green <b>before</b>'],
      ['bo', 'p99 up a little'],
    ]);
    expect(journal.signals).toContainEqual(
      expect.objectContaining({ type: 'approve', by: 'ana', reason: 'phase gated' }),
    );
    expect(journal.phases[0]?.startedAt).toBeGreaterThanOrEqual(
      journal.signals[0]?.at ?? Number.POSITIVE_INFINITY,
    );

    expect(receiver.at('/json').map((body) => body.event)).toEqual([
      'run-started',
      'gate-waiting',
      'finished',
    ]);
    expect(receiver.at('/json')[2]).toMatchObject({ runId, verdict: 'passed' });
    expect(receiver.at('/down')).toHaveLength(3);
    expect(journal.events.map((e) => e.type)).toContain('notify.failed');
    expect(journal.events.find((e) => e.type === 'gate.steady-state')?.message).toBe(
      'held before phase gated',
    );
    const slack = receiver.at(`/slack/${secret}`).map((body) => String(body.text));
    expect(slack).toHaveLength(3);
    expect(slack[1]).toContain(`waiting for approval before phase gated: gameday approve ${runId}`);
    expect(slack[2]).toContain('passed: steady state held');

    // The token in the URL reached the receiver and nothing else.
    const client = await testClient();
    const history = JSON.stringify(await client.workflow.getHandle(runId).fetchHistory());
    await client.connection.close();
    for (const [where, text] of [
      ['history', history],
      ['worker output', workerOutput],
      ['run output', result.stdout + result.stderr],
      ...(await Promise.all(
        ['journal.json', 'report.html', 'report.md', 'junit.xml'].map(async (name) => [
          name,
          await readFile(join(out, runId, name), 'utf8'),
        ]),
      )),
    ])
      expect(text, where).not.toContain(secret);
    await target.stop();
  });

  it('aborts when nobody approves in time, with everything reverted, and a failing webhook only noted', async () => {
    const target = await startTarget();
    const receiver = await startReceiver(() => 500);
    const latency = { proxy: target.proxy, toxic: 'latency' as const, attributes: { latency: 20 } };
    const file = await writeExperiment(
      experimentFor(target, {
        notify: [{ url: `${receiver.url}/down`, format: 'json', events: ['run-started'] }],
        phases: [
          { name: 'first', duration: '1s', faults: [{ name: 'first-latency', toxiproxy: latency }] },
          {
            name: 'second',
            duration: '1s',
            gate: { approval: 'required', timeout: '2s' },
            faults: [{ name: 'second-latency', toxiproxy: latency }],
          },
        ],
      }),
    );
    const out = await scratchDir('out');
    const runId = uniqueName('gate-timeout');
    const { code, stdout } = await gameday(
      ['run', '--local', file, '--out', out, '--id', runId],
      cliEnv(uniqueName('q')),
    ).done;

    expect(code, stdout).toBe(2);
    expect(stdout).toContain('ABORTED abort by gate: nobody approved phase second within 2s');
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    const journal = await readJournal(out, runId);
    expect(journal.phases.map((p) => p.name)).toEqual(['first']);
    expect(journal.faults.map((f) => [f.handle.name, f.status])).toEqual([['first-latency', 'reverted']]);
    // Three attempts, then the journal says so; the run went on regardless.
    expect(receiver.at('/down')).toHaveLength(3);
    expect(journal.events.find((e) => e.type === 'notify.failed')?.message).toMatch(
      /^run-started to webhook 1: webhook 1 \(127\.0\.0\.1:\d+\): answered 500$/,
    );
    await target.stop();
  });

  it('loses nothing when the worker is killed while the run waits at a gate', async () => {
    const target = await startTarget();
    const file = await writeExperiment(gatedExperiment(target));
    const env = cliEnv(uniqueName('gate-crash'));
    const out = await scratchDir('out');
    const runId = uniqueName('gate-crash');
    const first = await startWorkerProcess(env);
    const run = gameday(['run', file, '--out', out, '--id', runId], env);
    await waitAtGate(runId, 'gated');
    expect((await gameday(['note', runId, 'before the crash'], env).done).code).toBe(0);

    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const second = await startWorkerProcess(env);
    expect((await gameday(['note', runId, 'after the restart'], env).done).code).toBe(0);
    const approved = await gameday(['approve', runId, '--by', 'ana'], env).done;
    expect(approved.code, approved.stderr).toBe(0);

    const { code, stdout } = await run.done;
    second.child.kill('SIGTERM');
    await second.done;
    expect(code, stdout).toBe(0);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    const journal = await readJournal(out, runId);
    expect(journal.notes.map((n) => n.text)).toEqual(['before the crash', 'after the restart']);
    expect(journal.faults[0]).toMatchObject({ status: 'reverted' });
    await target.stop();
  });

  it('injects nothing when the steady state no longer holds after approval', async () => {
    const target = await startTarget();
    const file = await writeExperiment(gatedExperiment(target));
    const env = cliEnv(uniqueName('gate-recheck'));
    const out = await scratchDir('out');
    const runId = uniqueName('gate-recheck');
    const run = gameday(['run', '--local', file, '--out', out, '--id', runId], env);
    await waitAtGate(runId, 'gated');
    // The service went bad while people looked at dashboards: approving must not inject on top.
    target.setMode('fail');
    const approved = await gameday(['approve', runId, '--by', 'ana'], env).done;
    expect(approved.code, approved.stderr).toBe(0);

    const { code, stdout } = await run.done;
    expect(code, stdout).toBe(4);
    const journal = await readJournal(out, runId);
    expect(journal.verdict).toBe('not-started');
    expect(journal.faults).toEqual([]);
    expect(journal.steadyStateBefore?.probes[0]).toMatchObject({ probe: 'svc-ok', ok: false });
    expect(journal.events.find((e) => e.type === 'gate.steady-state')?.message).toMatch(
      /^failed before phase gated: svc-ok .*errorRate: measured 100%, tolerance errorRate ≤ 0%/,
    );
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    await target.stop();
  });

  it('stops at the gate when someone aborts there, and refuses a late approval', async () => {
    const target = await startTarget();
    const latency = { proxy: target.proxy, toxic: 'latency' as const, attributes: { latency: 20 } };
    const file = await writeExperiment(
      experimentFor(target, {
        phases: [
          { name: 'first', duration: '1s', faults: [{ name: 'first-latency', toxiproxy: latency }] },
          {
            name: 'second',
            duration: '1s',
            gate: { approval: 'required', timeout: '2m' },
            faults: [{ name: 'second-latency', toxiproxy: latency }],
          },
        ],
      }),
    );
    const env = cliEnv(uniqueName('gate-abort'));
    const out = await scratchDir('out');
    const runId = uniqueName('gate-abort');
    const run = gameday(['run', '--local', file, '--out', out, '--id', runId], env);
    await waitAtGate(runId, 'second');
    const aborted = await gameday(['abort', runId, '--reason', 'pager fired', '--by', 'bo'], env).done;
    expect(aborted.code, aborted.stderr).toBe(0);

    const { code, stdout } = await run.done;
    expect(code, stdout).toBe(2);
    expect(stdout).toContain('ABORTED abort by bo: pager fired');
    const late = await gameday(['approve', runId, '--by', 'ana'], env).done;
    expect(late.code).not.toBe(0);
    const journal = await readJournal(out, runId);
    expect(journal.phases.map((p) => p.name)).toEqual(['first']);
    expect(journal.faults.map((f) => [f.handle.name, f.status])).toEqual([['first-latency', 'reverted']]);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    await target.stop();
  });
});
