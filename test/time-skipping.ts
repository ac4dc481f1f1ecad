/**
 * Temporal's time-skipping test server for workflow timers that run minutes or hours: a gate's
 * 15-minute wait, a 10-minute rollback. While a test awaits a run's result, the server jumps over
 * every timer the workflow waits on; activities still run for real, on a gameday worker.
 *
 * @temporalio/testing would download the server from GitHub, which this machine cannot reach;
 * `scripts/bootstrap --with-test-server` fetches the same server from Maven Central and
 * .tools/bin/temporal-test-server runs it. Its clock runs ahead of the real one once it has
 * skipped, so a test starts a server of its own and skips only when no activity compares a
 * workflow time with the wall clock (a phase's watch runs until the workflow's `endsAt`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { inject } from 'vitest';
import { createGamedayWorker, installQuietRuntime } from '../src/temporal/worker';
import { PROJECT_ROOT } from '../src/tools';
import { uniqueName } from './helpers';

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
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: TEST_SERVER } },
  });
  const taskQueue = uniqueName('time-skipping');
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
        await env.teardown();
      },
    };
  } catch (error) {
    await env.teardown();
    throw error;
  }
}
