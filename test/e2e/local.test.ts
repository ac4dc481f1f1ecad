/**
 * `--local` as a laptop user has it: no TEMPORAL_ADDRESS, an embedded dev server whose database
 * lives under GAMEDAY_HOME, so a run whose process was killed is rolled back by the next worker.
 * And `npm run demo`, end to end.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/lab/ports';
import { isServing } from '../../src/temporal/dev-server';
import { PROJECT_ROOT } from '../../src/tools';
import {
  experimentFor,
  gameday,
  proxyState,
  scratchDir,
  startTarget,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';

async function localEnv() {
  const home = await scratchDir('home');
  const port = await freePort();
  const env = {
    TEMPORAL_ADDRESS: undefined,
    GAMEDAY_HOME: home,
    GAMEDAY_LOCAL_PORT: String(port),
    GAMEDAY_TASK_QUEUE: uniqueName('local'),
  };
  // Whatever happens in the test, no embedded server outlives it.
  onTestFinished(() => void spawn('pkill', ['-9', '-f', join(home, 'temporal.db')]));
  return { home, port, env };
}

describe('gameday run --local without TEMPORAL_ADDRESS', () => {
  it('starts an embedded dev server with its database under GAMEDAY_HOME, and stops it after', async () => {
    const { home, port, env } = await localEnv();
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

  it('leaves a run killed with its server to the next `gameday worker --local`, which rolls it back', async () => {
    const { port, env } = await localEnv();
    const target = await startTarget();
    const file = await writeExperiment(
      experimentFor(target, {
        phases: [
          {
            name: 'slow',
            duration: '4s',
            faults: [
              {
                name: 'svc-latency',
                toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 10 } },
              },
            ],
          },
        ],
      }),
    );
    const out = await scratchDir('out');
    const runId = uniqueName('killed');
    const toxic = `gameday.${runId}.svc-latency`;
    const run = gameday(['run', '--local', file, '--out', out, '--id', runId], env);
    await waitFor(async () => (await proxyState(target.proxy)).toxics.includes(toxic), { what: 'the toxic' });

    // The laptop dies: the CLI, its in-process worker and its embedded server, all at once.
    run.child.kill('SIGKILL');
    await run.done;
    await new Promise<void>((resolve) =>
      spawn('pkill', ['-9', '-f', join(env.GAMEDAY_HOME, 'temporal.db')]).on('exit', () => resolve()),
    );
    await waitFor(async () => !(await isServing(`127.0.0.1:${port}`)), { what: 'the server to die' });
    expect((await proxyState(target.proxy)).toxics).toContain(toxic);

    const worker = gameday(['worker', '--local'], env);
    await waitFor(() => existsSync(join(out, runId, 'journal.json')), {
      what: 'the resumed run to finish',
      timeoutMs: 60_000,
    });
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    expect(worker.output()).toContain(`started an embedded Temporal dev server at 127.0.0.1:${port}`);
    worker.child.kill('SIGTERM');
    expect((await worker.done).code).toBe(0);
    expect(await isServing(`127.0.0.1:${port}`)).toBe(false);
    await target.stop();
  });
});

describe('npm run examples', () => {
  it('runs every example against the demo service, passes, and leaves Toxiproxy clean', async () => {
    const { env } = await localEnv();
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
