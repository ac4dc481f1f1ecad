/**
 * Temporal's time-skipping test server for workflow timers that run minutes or hours: a gate's
 * 15-minute wait, a 10-minute rollback. While a test awaits a run's result, the server jumps over
 * every timer the workflow waits on; activities still run for real, on a gameday worker.
 *
 * @temporalio/testing would download the server from GitHub, which this machine cannot reach;
 * `scripts/bootstrap --with-test-server` fetches the same server from Maven Central and
 * .tools/bin/temporal-test-server runs it with java. The SDK gives a server it starts 5 s to
 * listen, less than a JVM takes on two busy cores, so the server is started here and awaited
 * patiently, and the SDK's own time-skipping environment is made over it (the path its
 * createTimeSkipping takes, with the server already running).
 *
 * Its clock runs ahead of the real one once it has skipped, so a test starts a server of its own
 * and skips only when no activity compares a workflow time with the wall clock (a phase's watch
 * runs until the workflow's `endsAt`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { inject } from 'vitest';
import { freePort } from '../src/lab/ports';
import { isServing, stopProcess } from '../src/temporal/dev-server';
import { createGamedayWorker, installQuietRuntime } from '../src/temporal/worker';
import { PROJECT_ROOT } from '../src/tools';
import { uniqueName, waitFor } from './helpers';

export const TEST_SERVER = join(PROJECT_ROOT, '.tools/bin/temporal-test-server');

export interface TimeSkipping {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  stop(): Promise<void>;
}

/** A time-skipping server of its own and a gameday worker polling it. */
export async function startTimeSkipping(): Promise<TimeSkipping> {
  if (!existsSync(TEST_SERVER))
    throw new Error(`${TEST_SERVER} is missing: run scripts/bootstrap --with-test-server`);
  installQuietRuntime();
  const address = `127.0.0.1:${await freePort()}`;
  const server = spawn(TEST_SERVER, [address.split(':')[1] ?? ''], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  let env: TestWorkflowEnvironment;
  try {
    await waitFor(
      async () => {
        if (server.exitCode !== null) throw new Error(`it exited with ${server.exitCode}: ${stderr.trim()}`);
        return isServing(address);
      },
      { what: `the time-skipping test server at ${address}`, intervalMs: 200 },
    );
    env = await (TestWorkflowEnvironment as unknown as TimeSkippingOverExisting).create({
      server: { type: 'existing' },
      address,
      namespace: 'default',
      supportsTimeSkipping: true,
    });
  } catch (error) {
    await stopProcess(server);
    throw error;
  }
  const taskQueue = uniqueName('time-skipping');
  const stopAll = async () => {
    await env.teardown();
    await stopProcess(server);
  };
  try {
    const worker = await createGamedayWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    const running = worker.run();
    return {
      env,
      taskQueue,
      async stop() {
        worker.shutdown();
        await running;
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** TestWorkflowEnvironment.create, private in its types: what createTimeSkipping calls. */
interface TimeSkippingOverExisting {
  create(options: {
    server: { type: 'existing' };
    address: string;
    namespace: string;
    supportsTimeSkipping: true;
  }): Promise<TestWorkflowEnvironment>;
}
