/**
 * Stopping `gameday run` the ways the world does: Ctrl-C typed in a terminal (SIGINT to
 * the whole foreground process group) and `timeout -s TERM` (SIGTERM to the command and its
 * group). The embedded Temporal server must survive both until the rollback is done, then stop.
 * And the other way round: the run's Temporal going away under it, or the run terminated by hand.
 * (SIGKILL, and the embedded server lost mid-run: local.test.ts.)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/lab/ports';
import type { Journal } from '../../src/report/journal';
import { isServing, startDevServer } from '../../src/temporal/dev-server';
import { PROJECT_ROOT } from '../../src/tools';
import {
  type CliProcess,
  cliEnv,
  experimentFor,
  gameday,
  proxyState,
  scratchDir,
  startTarget,
  startWorkerProcess,
  type Target,
  testClient,
  toxiproxyUrl,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';
import { gamedayInTerminal, localCliEnv, processesMentioning } from '../terminal';

function longFault(target: Target) {
  return experimentFor(target, {
    phases: [
      {
        name: 'long',
        duration: '2m',
        faults: [
          {
            name: 'svc-latency',
            toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 10 } },
          },
        ],
      },
    ],
  });
}

async function readJournal(out: string, runId: string): Promise<Journal> {
  return JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
}

describe('gameday run --local in a terminal', () => {
  it('rolls back on a Ctrl-C typed in the terminal, and stops its embedded server after', async () => {
    const { home, address, env } = await localCliEnv('tty');
    const target = await startTarget();
    const file = await writeExperiment(longFault(target));
    const out = await scratchDir('out');
    const runId = uniqueName('ctrl-c');
    const toxic = `gameday.${runId}.svc-latency`;
    const run = gamedayInTerminal(['run', '--local', file, '--out', out, '--id', runId], env);
    await waitFor(async () => (await proxyState(target.proxy)).toxics.includes(toxic), {
      what: () => `the toxic; the terminal showed: ${run.screen().slice(-2_000)}`,
    });

    run.typeCtrlC();
    const { code, screen } = await run.done;
    expect(screen).toContain('aborting: every fault is being rolled back');
    expect(screen).toMatch(/ABORTED abort by .*: interrupted from the terminal \(Ctrl-C\)/);
    expect(screen).not.toContain('unexpected error');
    expect(code, screen).toBe(2);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    expect((await readJournal(out, runId)).faults[0]?.status).toBe('reverted');
    expect(await isServing(address)).toBe(false);
    expect(processesMentioning(home)).toEqual([]);
  });
});

/**
 * `timeout -s TERM <d> gameday run ...` when <d> runs out. coreutils' timeout arms a SIGALRM timer;
 * sending it SIGALRM is its expiry, exactly: it then sends SIGTERM to the command and to the
 * whole process group it leads. So the test waits for the fault, then makes the time run out.
 */
function underTimeout(args: string[], env: Record<string, string | undefined>) {
  const merged: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env }))
    if (value !== undefined) merged[name] = value;
  const child = spawn(
    'timeout',
    [
      '--preserve-status',
      '-s',
      'TERM',
      '1h',
      process.execPath,
      join(PROJECT_ROOT, 'bin/gameday.js'),
      ...args,
    ],
    { cwd: PROJECT_ROOT, env: merged, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, output })),
  );
  return { runOutOfTime: () => child.kill('SIGALRM'), done, output: () => output };
}

describe('gameday run stopped by SIGTERM', () => {
  it('--local under `timeout -s TERM`: the time runs out, the run aborts and rolls back (exit 2)', async () => {
    const { home, address, env } = await localCliEnv('tty');
    const target = await startTarget();
    const file = await writeExperiment(longFault(target));
    const out = await scratchDir('out');
    const runId = uniqueName('timeout');
    const toxic = `gameday.${runId}.svc-latency`;
    const run = underTimeout(['run', '--local', file, '--out', out, '--id', runId], env);
    await waitFor(async () => (await proxyState(target.proxy)).toxics.includes(toxic), {
      what: () => `the toxic; gameday printed: ${run.output().slice(-2_000)}`,
    });

    run.runOutOfTime();
    const { code, output } = await run.done;
    expect(output).toContain('SIGTERM: aborting; every fault is being rolled back before this process ends.');
    expect(output).toMatch(/ABORTED abort by .*: stopped by SIGTERM/);
    expect(code, output).toBe(2);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    const journal = await readJournal(out, runId);
    expect(journal.faults[0]?.status).toBe('reverted');
    expect(journal.signals[0]?.reason).toContain('SIGTERM');
    expect(await isServing(address)).toBe(false);
    expect(processesMentioning(home)).toEqual([]);
  });

  it('without --local: SIGTERM aborts the run, waits for the worker to roll it back (exit 2)', async () => {
    const target = await startTarget();
    const file = await writeExperiment(longFault(target));
    const out = await scratchDir('out');
    const runId = uniqueName('sigterm');
    const env = cliEnv(uniqueName('q'));
    await startWorkerProcess(env);
    const run = underTimeout(['run', file, '--out', out, '--id', runId], env);
    await waitFor(async () => (await proxyState(target.proxy)).toxics.length > 0, { what: 'the toxic' });

    run.runOutOfTime();
    const { code, output } = await run.done;
    expect(output).toMatch(/ABORTED abort by .*: stopped by SIGTERM/);
    expect(code, output).toBe(2);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    expect((await readJournal(out, runId)).faults[0]?.status).toBe('reverted');
  });

  it('a second SIGTERM is the same request again: it still waits for the rollback (exit 2)', async () => {
    // `timeout` signals the command and then its group: two SIGTERMs for one expiry, sometimes
    // merged into one by the kernel and sometimes not. Here the second surely comes after the first.
    const target = await startTarget();
    const file = await writeExperiment(longFault(target));
    const out = await scratchDir('out');
    const runId = uniqueName('sigterm-twice');
    const env = cliEnv(uniqueName('q'));
    await startWorkerProcess(env);
    const run = gameday(['run', file, '--out', out, '--id', runId], env);
    await run.until(async () => (await proxyState(target.proxy)).toxics.length > 0, 'the toxic');

    run.child.kill('SIGTERM');
    await run.until(() => run.output().includes('SIGTERM: aborting'), 'the first SIGTERM taken');
    run.child.kill('SIGTERM');
    const { code, stdout, stderr } = await run.done;
    const output = stdout + stderr;
    expect(output).not.toContain('detached');
    expect(output).toMatch(/ABORTED abort by .*: stopped by SIGTERM/);
    expect(code, output).toBe(2);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
  });
});

/** Waits until the run is injected and the CLI has printed a status that says so. */
async function injected(run: CliProcess, target: Target) {
  await waitFor(async () => (await proxyState(target.proxy)).toxics.length > 0, { what: 'the toxic' });
  await waitFor(() => run.output().includes('svc-latency: INJECTED'), { what: 'the status line' });
}

describe('gameday run when its Temporal goes away', () => {
  it('says what may still be injected and how to finish when the server stops answering (exit 5)', async () => {
    const port = await freePort();
    const dbFile = join(await scratchDir('db'), 'temporal.db');
    let server = await startDevServer({ port, dbFile });
    onTestFinished(() => server.stop());
    const target = await startTarget();
    const file = await writeExperiment(longFault(target));
    const out = await scratchDir('out');
    const runId = uniqueName('gone');
    const queue = uniqueName('q');
    const env = { ...cliEnv(queue), TEMPORAL_ADDRESS: server.address };
    const run = gameday(['run', '--local', file, '--out', out, '--id', runId], env);
    await injected(run, target);

    server.process.kill('SIGKILL');
    const { code, stdout, stderr } = await run.done;
    expect(stderr).toContain(
      `gameday: lost Temporal during run ${runId}: Temporal at ${server.address} stopped answering`,
    );
    expect(stderr).toContain(
      `MAY STILL BE INJECTED: fault svc-latency (injected): toxiproxy ${toxiproxyUrl()} proxy ${target.proxy}`,
    );
    expect(stderr).toContain(
      `to finish the rollback: once Temporal at ${server.address} answers again, GAMEDAY_TASK_QUEUE=${queue} gameday worker`,
    );
    expect(stdout + stderr).not.toContain('unexpected error');
    expect(stdout + stderr).not.toMatch(/^\s+at /m);
    expect(code).toBe(5);

    // Doing what it said finishes the rollback.
    server = await startDevServer({ port, dbFile });
    await startWorkerProcess(env);
    expect((await gameday(['abort', runId, '--reason', 'Temporal was lost'], env).done).code).toBe(0);
    await waitFor(() => existsSync(join(out, runId, 'journal.json')), { what: 'the resumed run to finish' });
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
  });

  it('says what is still injected when the run is terminated by hand, where nothing rolls back (exit 3)', async () => {
    const target = await startTarget();
    const file = await writeExperiment(longFault(target));
    const runId = uniqueName('terminated');
    const run = gameday(
      ['run', '--local', file, '--out', await scratchDir('out'), '--id', runId],
      cliEnv(uniqueName('q')),
    );
    await injected(run, target);

    await (await testClient()).workflow.getHandle(runId).terminate('by hand');
    const { code, stdout, stderr } = await run.done;
    expect(stderr).toContain(
      `gameday: run ${runId} ended outside gameday (terminated) and its rollback did not run.`,
    );
    expect(stderr).toContain('MAY STILL BE INJECTED: fault svc-latency (injected)');
    expect(stderr).toContain('nothing will roll it back now: remove by hand what is listed above.');
    expect(stdout + stderr).not.toMatch(/^\s+at /m);
    expect(code).toBe(3);
  });
});
