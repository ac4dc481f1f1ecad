/**
 * `--local` as a laptop user has it: no TEMPORAL_ADDRESS, an embedded dev server whose database
 * lives under GAMEDAY_HOME, so a run whose process was killed is rolled back by the next worker;
 * the server lives while some gameday uses it and no longer. And `npm run examples`, end to end.
 */

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/lab/ports';
import { isServing, startDevServer } from '../../src/temporal/dev-server';
import { PROJECT_ROOT } from '../../src/tools';
import {
  experimentFor,
  gameday,
  proxyState,
  scratchDir,
  startTarget,
  type Target,
  toxiproxyUrl,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';
import { localCliEnv, processesMentioning } from '../terminal';

/** The pid of the embedded `temporal` process of a home (not its keeper). */
function temporalServerOf(home: string): number {
  const servers = processesMentioning(join(home, 'temporal.db')).filter((pid) =>
    readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith('/temporal'),
  );
  expect(servers).toHaveLength(1);
  return servers[0] as number;
}

function longFault(target: Target, duration: string) {
  return experimentFor(target, {
    phases: [
      {
        name: 'slow',
        duration,
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

describe('gameday run --local without TEMPORAL_ADDRESS', () => {
  it('starts an embedded dev server with its database under GAMEDAY_HOME, and stops it after', async () => {
    const { home, port, env } = await localCliEnv('local');
    const target = await startTarget();
    const file = await writeExperiment(experimentFor(target));
    const { code, stdout } = await gameday(['run', '--local', file, '--out', await scratchDir('out')], env)
      .done;

    expect(stdout).toContain(`started an embedded Temporal dev server at 127.0.0.1:${port}`);
    expect(stdout).toContain('PASSED');
    expect(code).toBe(0);
    expect(existsSync(join(home, 'temporal.db'))).toBe(true);
    expect(await isServing(`127.0.0.1:${port}`)).toBe(false);
    await target.stop();
  });

  it('stops its embedded server soon after a SIGKILL, and the next `gameday worker --local` rolls the run back', async () => {
    const { home, port, env } = await localCliEnv('local');
    const target = await startTarget();
    const file = await writeExperiment(longFault(target, '4s'));
    const out = await scratchDir('out');
    const runId = uniqueName('killed');
    const toxic = `gameday.${runId}.svc-latency`;
    const run = gameday(['run', '--local', file, '--out', out, '--id', runId], env);
    await run.until(async () => (await proxyState(target.proxy)).toxics.includes(toxic), 'the toxic');

    // The CLI dies as with `kill -9 <pid>`: nobody cleans up after it.
    run.child.kill('SIGKILL');
    await run.done;
    await waitFor(async () => !(await isServing(`127.0.0.1:${port}`)), {
      what: 'the orphaned embedded server to stop by itself',
    });
    await waitFor(() => processesMentioning(home).length === 0, { what: 'no process of the home left' });
    expect((await proxyState(target.proxy)).toxics).toContain(toxic);

    const worker = gameday(['worker', '--local'], env);
    await worker.until(() => existsSync(join(out, runId, 'journal.json')), 'the resumed run to finish');
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    expect(worker.output()).toContain(`started an embedded Temporal dev server at 127.0.0.1:${port}`);
    worker.child.kill('SIGTERM');
    expect((await worker.done).code).toBe(0);
    expect(await isServing(`127.0.0.1:${port}`)).toBe(false);
    expect(processesMentioning(home)).toEqual([]);
    await target.stop();
  });

  it('keeps the embedded server while a `gameday worker --local` still uses it, and stops it after the last', async () => {
    const { home, port, env } = await localCliEnv('local');
    const address = `127.0.0.1:${port}`;
    const target = await startTarget();
    const file = await writeExperiment(longFault(target, '2m'));
    const out = await scratchDir('out');
    const runId = uniqueName('shared');
    const run = gameday(['run', '--local', file, '--out', out, '--id', runId], env);
    await run.until(async () => (await proxyState(target.proxy)).toxics.length > 0, 'the toxic');
    const worker = gameday(['worker', '--local'], env);
    await worker.until(() => worker.output().includes('worker polling'), 'the worker to poll');
    expect(worker.output()).toContain(
      'that another gameday --local started; it stops when the last one using it ends',
    );

    const abort = await gameday(['abort', runId, '--reason', 'done'], { TEMPORAL_ADDRESS: address }).done;
    expect(abort.code).toBe(0);
    expect((await run.done).code).toBe(2);
    // The run that started the server has ended; the worker still uses it.
    expect(await isServing(address)).toBe(true);
    expect(worker.child.exitCode).toBeNull();

    worker.child.kill('SIGTERM');
    expect((await worker.done).code).toBe(0);
    expect(await isServing(address)).toBe(false);
    expect(processesMentioning(home)).toEqual([]);
    await target.stop();
  });

  it('a `gameday worker --local` whose embedded server dies says so and stops (exit 69)', async () => {
    const { home, env } = await localCliEnv('local');
    const worker = gameday(['worker', '--local'], env);
    await worker.until(() => worker.output().includes('worker polling'), 'the worker to poll');
    process.kill(temporalServerOf(home), 'SIGKILL');
    const { code, stderr } = await worker.done;
    expect(stderr).toContain(
      `gameday: the embedded Temporal server exited (killed by SIGKILL): the worker stopped. Runs in progress wait in ${join(home, 'temporal.db')}`,
    );
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(code).toBe(69);
  });

  it('leaves running a Temporal server it did not start', async () => {
    const { port, env } = await localCliEnv('local');
    const theirs = await startDevServer({ port });
    onTestFinished(() => theirs.stop());
    const worker = gameday(['worker', '--local'], env);
    await worker.until(() => worker.output().includes('worker polling'), 'the worker to poll');
    expect(worker.output()).toContain(
      `using the Temporal server already serving at 127.0.0.1:${port}; gameday did not start it`,
    );
    worker.child.kill('SIGTERM');
    expect((await worker.done).code).toBe(0);
    expect(await isServing(theirs.address)).toBe(true);
  });

  it('says what may still be injected, and how to finish the rollback, when its server dies mid-run (exit 5)', async () => {
    const { home, port, env } = await localCliEnv('local');
    const target = await startTarget();
    const file = await writeExperiment(longFault(target, '2m'));
    const out = await scratchDir('out');
    const runId = uniqueName('lost');
    const toxic = `gameday.${runId}.svc-latency`;
    const run = gameday(['run', '--local', file, '--out', out, '--id', runId], env);
    await run.until(async () => (await proxyState(target.proxy)).toxics.includes(toxic), 'the toxic');
    // Let the CLI read a status that shows the fault in.
    await waitFor(() => run.output().includes('svc-latency: INJECTED'), { what: 'the status line' });

    process.kill(temporalServerOf(home), 'SIGKILL');
    const { code, stdout, stderr } = await run.done;

    expect(stderr).toContain(
      `gameday: lost Temporal during run ${runId}: the embedded Temporal server exited (killed by SIGKILL)`,
    );
    expect(stderr).toContain(
      `MAY STILL BE INJECTED: fault svc-latency (injected): toxiproxy ${toxiproxyUrl()} proxy ${target.proxy} toxic ${toxic}`,
    );
    const finish = `GAMEDAY_HOME=${home} GAMEDAY_LOCAL_PORT=${port} GAMEDAY_TASK_QUEUE=${env.GAMEDAY_TASK_QUEUE} gameday worker --local`;
    expect(stderr).toContain(`to finish the rollback: ${finish}`);
    expect(stderr).toContain(
      `it then goes on with its phases; to roll back at once instead: TEMPORAL_ADDRESS=127.0.0.1:${port} gameday abort ${runId}`,
    );
    expect(stderr).toContain(`see how it ended: TEMPORAL_ADDRESS=127.0.0.1:${port} gameday status ${runId}`);
    expect(stdout + stderr).not.toContain('unexpected error');
    expect(stdout + stderr).not.toMatch(/^\s+at /m);
    expect(code).toBe(5);
    expect((await proxyState(target.proxy)).toxics).toContain(toxic);

    // Doing what it said finishes the rollback.
    const worker = gameday(['worker', '--local'], {
      TEMPORAL_ADDRESS: undefined,
      GAMEDAY_HOME: home,
      GAMEDAY_LOCAL_PORT: String(port),
      GAMEDAY_TASK_QUEUE: env.GAMEDAY_TASK_QUEUE,
    });
    await worker.until(() => worker.output().includes('worker polling'), 'the worker to poll');
    const abort = await gameday(['abort', runId, '--reason', 'server was lost'], {
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    }).done;
    expect(abort.code).toBe(0);
    await worker.until(() => existsSync(join(out, runId, 'journal.json')), 'the resumed run to finish');
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    worker.child.kill('SIGTERM');
    expect((await worker.done).code).toBe(0);
    await target.stop();
  });
});

describe('npm run examples', () => {
  it('runs every example against the demo service, passes, and leaves Toxiproxy clean', async () => {
    const { env } = await localCliEnv('local');
    const demoEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...env,
      DEMO_TOXIPROXY_PORT: String(await freePort()),
      NO_COLOR: '1',
    };
    delete demoEnv.TEMPORAL_ADDRESS;
    const demo = spawn(
      join(PROJECT_ROOT, 'node_modules/.bin/tsx'),
      [join(PROJECT_ROOT, 'scripts/examples.ts')],
      {
        cwd: await scratchDir('demo'),
        env: demoEnv,
      },
    );
    onTestFinished(() => void demo.kill('SIGKILL'));
    let output = '';
    demo.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    demo.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise((resolve) => demo.on('exit', resolve));

    expect(output.match(/^PASSED /gm)?.length, output).toBe(2);
    expect(output).toContain('toxiproxy is clean: no toxics left, proxy payments enabled');
    expect(output).toMatch(/report: {2}.*checkout-latency-.*\/report\.html/);
    expect(output).toMatch(/junit: {3}.*checkout-latency-.*\/junit\.xml/);
    expect(code).toBe(0);
  });
});
