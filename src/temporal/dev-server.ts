/**
 * The embedded Temporal dev server (`temporal server start-dev` from .tools), for `--local` runs
 * and the test suite. With a database file, runs survive the server: a crashed run resumes the
 * next time a server and a worker start on the same file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { toolBinary } from '../tools';

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port: number;
  /** A UI port, or null for none. */
  uiPort?: number | null;
  /** Persist to this SQLite file; in memory when absent. */
  dbFile?: string;
  readyTimeoutMs?: number;
}

/** The `temporal server start-dev` arguments for these options (creating the database's directory). */
export function devServerArgs(options: DevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--log-level',
    'error',
    // A workflow task that schedules an activity gets the activity back in its answer, without a
    // trip through the task queue: a phase's watch starts sooner after its faults are in
    // (docs/scaling.md). Off by default in the server; SDK workers ask for it by default.
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // Timers (a phase's end, a retry's backoff, a heartbeat timeout) fire up to this late; the
    // default 1s kept a dead worker's faults in up to a second past its heartbeat timeout.
    '--dynamic-config-value',
    'history.timerProcessorMaxTimeShift="10ms"',
  ];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  return args;
}

/** A dev server as a child of this process (the suite's, the lab's); `--local` runs use embedded.ts. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const address = `127.0.0.1:${options.port}`;
  const args = devServerArgs(options);
  const child = spawn(toolBinary('temporal'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });

  const stop = () => stopProcess(child);
  try {
    await waitUntilServing(address, child, () => stderr, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : null,
    process: child,
    stop,
  };
}

async function waitUntilServing(
  address: string,
  child: ChildProcess,
  stderr: () => string,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`temporal server start-dev exited with ${child.exitCode}: ${stderr().trim()}`);
    }
    if (await isServing(address)) return;
    if (Date.now() > deadline)
      throw new Error(`temporal dev server at ${address} not ready after ${timeoutMs}ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether a Temporal frontend answers at the address. */
export async function isServing(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 500 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

export function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
