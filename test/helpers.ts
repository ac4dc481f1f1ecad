/**
 * What the tests share: the servers from globalSetup, a target service behind its own Toxiproxy
 * proxy, experiment files, workers, the CLI as a user runs it, and polling for conditions.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject, onTestFinished } from 'vitest';
import { stringify } from 'yaml';
import { loadExperiment } from '../src/experiment/load';
import { planRun } from '../src/experiment/plan';
import type { ExperimentInput } from '../src/experiment/schema';
import { freePort } from '../src/lab/ports';
import { type RunHandle, startRun } from '../src/temporal/start-run';
import { createGamedayWorker, installQuietRuntime } from '../src/temporal/worker';
import { PROJECT_ROOT } from '../src/tools';
import { type RunResult, statusQuery } from '../workflows/messages';
import { PATIENCE_MS, patiently } from './patience';

export const temporalAddress = () => inject('temporalAddress');
export const toxiproxyUrl = () => inject('toxiproxyUrl');

/** Lowercase and unique across parallel test files, usable as a name, a run id or a queue. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export async function scratchDir(prefix: string): Promise<string> {
  const root = join(inject('scratchDir'), 'tests');
  await mkdir(root, { recursive: true });
  return mkdtemp(join(root, `${prefix}-`));
}

/**
 * Polls until the condition is truthy; a condition that throws counts as "not yet". Gives up only
 * after test/patience.ts's generous bound, saying what it waited for and the last error it saw.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  {
    timeoutMs = PATIENCE_MS,
    intervalMs = 25,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline || lastError instanceof ExitedFirst) {
      throw new Error(
        `timed out after ${timeoutMs}ms waiting for ${typeof what === 'function' ? what() : what}${lastError ? ` (last error: ${lastError})` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// -------------------------------------------------------------------------------------------
// The system under test: an HTTP service, reached through its own Toxiproxy proxy.

export type UpstreamMode = 'ok' | 'fail';

export interface Target {
  proxy: string;
  /** The probe URL: through the proxy. */
  url: string;
  listen: string;
  upstream: string;
  setMode(mode: UpstreamMode): void;
  /** When the upstream last switched mode. */
  modeChangedAt(): number;
  stop(): Promise<void>;
}

export async function startTarget(
  prefix = 'svc',
  {
    declareOnly = false,
    requireAuthorization,
    toxiproxy = toxiproxyUrl(),
  }: { declareOnly?: boolean; requireAuthorization?: string; toxiproxy?: string } = {},
): Promise<Target> {
  let mode: UpstreamMode = 'ok';
  let changedAt = Date.now();
  const server: Server = createServer((request, response) => {
    if (requireAuthorization && request.headers.authorization !== requireAuthorization)
      response.writeHead(401).end();
    else if (mode === 'ok') response.writeHead(200).end('ok');
    else response.writeHead(503).end('failing');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const upstreamPort = (server.address() as { port: number }).port;
  const listenPort = await freePort();
  const proxy = uniqueName(prefix);
  const listen = `127.0.0.1:${listenPort}`;
  const upstream = `127.0.0.1:${upstreamPort}`;
  if (!declareOnly) {
    const created = await fetch(`${toxiproxy}/proxies`, {
      method: 'POST',
      body: JSON.stringify({ name: proxy, listen, upstream, enabled: true }),
    });
    if (!created.ok) throw new Error(`creating proxy ${proxy}: ${created.status} ${await created.text()}`);
  }
  let stopped: Promise<void> | undefined;
  // Idempotent, and also run when the test ends: a test that fails mid-run still takes its
  // proxy, and any toxic a run left on it, off the shared Toxiproxy server.
  const stop = () => {
    stopped ??= (async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await fetch(`${toxiproxy}/proxies/${proxy}`, { method: 'DELETE' }).catch(() => undefined);
    })();
    return stopped;
  };
  onTestFinished(stop);
  return {
    proxy,
    url: `http://${listen}/health`,
    listen,
    upstream,
    setMode(next) {
      mode = next;
      changedAt = Date.now();
    },
    modeChangedAt: () => changedAt,
    stop,
  };
}

export interface ProxyState {
  enabled: boolean;
  toxics: string[];
}

export async function proxyState(proxy: string, url = toxiproxyUrl()): Promise<ProxyState> {
  const response = await fetch(`${url}/proxies/${proxy}`);
  if (!response.ok) throw new Error(`proxy ${proxy}: ${response.status}`);
  const body = (await response.json()) as { enabled: boolean; toxics: { name: string }[] };
  return { enabled: body.enabled, toxics: body.toxics.map((t) => t.name) };
}

/** Everything the Toxiproxy server showed for a proxy, polled until stopped. */
export function observeProxy(proxy: string, everyMs = 20, url = toxiproxyUrl()) {
  return pollUntilStopped(everyMs, async () => ({ at: Date.now(), ...(await proxyState(proxy, url)) }));
}

/**
 * Calls `look` every `everyMs` until `stop()`, keeping what it saw: how tests watch a server from
 * outside while a run goes on. A look that throws (the thing is between states) is skipped.
 */
export function pollUntilStopped<T>(everyMs: number, look: () => Promise<T>) {
  const seen: T[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        seen.push(await look());
      } catch {
        // not there yet, or between states: the next look sees it
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    seen,
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

// -------------------------------------------------------------------------------------------
// Experiments

/** A small valid experiment against a target; tests override what they exercise. */
export function experimentFor(target: Target, overrides: Partial<ExperimentInput> = {}): ExperimentInput {
  return {
    version: 1,
    name: uniqueName('exp'),
    description: 'A test experiment against a service behind a Toxiproxy proxy.',
    target: { environment: 'local' },
    settings: { toxiproxy: { url: toxiproxyUrl() } },
    steadyState: [
      {
        name: 'svc-ok',
        http: { url: target.url, timeout: '1s' },
        sample: { every: '20ms', count: 5 },
        expect: { status: [200], errorRate: 0 },
      },
    ],
    phases: [
      {
        name: 'slow',
        duration: '2s',
        faults: [
          {
            name: 'svc-latency',
            toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 50 } },
          },
        ],
      },
    ],
    recovery: { within: '5s' },
    ...overrides,
  };
}

export async function writeExperiment(experiment: ExperimentInput, dir?: string): Promise<string> {
  const directory = dir ?? (await scratchDir('experiment'));
  const file = join(directory, `${experiment.name}.yaml`);
  await writeFile(file, stringify(experiment));
  return file;
}

// -------------------------------------------------------------------------------------------
// Temporal

export async function testClient(): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress() });
  return new Client({ connection });
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

export async function startWorker(taskQueue: string): Promise<RunningWorker> {
  installQuietRuntime();
  const connection = await NativeConnection.connect({ address: temporalAddress() });
  const worker = await createGamedayWorker({
    connection,
    namespace: 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

/**
 * An in-process worker on a task queue of its own, and a client, for the test file that calls
 * this at its top: started before the file's tests, stopped after them.
 */
export function useWorker(name: string): { readonly taskQueue: string; readonly client: Client } {
  const taskQueue = uniqueName(name);
  let worker: RunningWorker | undefined;
  let client: Client | undefined;
  beforeAll(async () => {
    worker = await startWorker(taskQueue);
    client = await testClient();
  });
  afterAll(async () => {
    await worker?.stop();
    await client?.connection.close();
  });
  return {
    taskQueue,
    get client() {
      if (!client) throw new Error('useWorker: the client exists once the tests run');
      return client;
    },
  };
}

// -------------------------------------------------------------------------------------------
// The CLI, as a user runs it

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** Its exit; waiting for it gives up after PATIENCE_MS, quoting what it printed so far. */
  readonly done: Promise<CliResult>;
  output(): string;
  /**
   * Waits for a condition while the CLI runs: gives up at once if it exits first, and after
   * PATIENCE_MS otherwise, either way quoting what it printed.
   */
  until<T>(condition: () => T | Promise<T>, what: string): Promise<NonNullable<T>>;
}

export function gameday(
  args: string[],
  env: Record<string, string | undefined> = {},
  cwd?: string,
): CliProcess {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/gameday.js'), ...args], {
    cwd: cwd ?? PROJECT_ROOT,
    env: definedOnly({ ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own: what the CLI starts (an embedded Temporal server) ends with it.
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<CliResult>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  // A test that fails half way must not leave its CLI processes, or what they started, running.
  onTestFinished(() => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is gone: nothing left
    }
  });
  const output = () => stdout + stderr;
  return {
    child,
    get done() {
      return patiently(
        exited,
        () => `gameday ${args.join(' ')} (pid ${child.pid}) to exit; it printed: ${output().slice(-2_000)}`,
      );
    },
    output,
    until: (condition, what) =>
      waitFor(
        () => {
          if (child.exitCode !== null || child.signalCode !== null) throw new ExitedFirst();
          return condition();
        },
        { what: () => `${what}; gameday ${args.join(' ')} printed: ${output().slice(-2_000)}` },
      ),
  };
}

/** A CLI that exited while a test waited on it: nothing more is coming. */
class ExitedFirst extends Error {
  constructor() {
    super('the CLI exited before it happened');
  }
}

/** `gameday worker` as its own process, once it polls: the one a test kills with SIGKILL. */
export async function startWorkerProcess(env: Record<string, string>): Promise<CliProcess> {
  const worker = gameday(['worker'], env);
  // Bundling the workflows takes seconds of CPU: on a busy 2-core machine, far more than on an idle one.
  await waitFor(() => worker.output().includes('worker polling'), {
    what: () => `the worker to poll; it printed: ${worker.output().slice(-2_000)}`,
  });
  return worker;
}

/** The environment a CLI run needs to reach the suite's servers on a queue of its own. */
export function cliEnv(taskQueue: string): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: temporalAddress(),
    TOXIPROXY_URL: toxiproxyUrl(),
    GAMEDAY_TASK_QUEUE: taskQueue,
  };
}

/** Validates, plans and starts an experiment the way `gameday run` does. */
export async function startExperiment(client: Client, experiment: ExperimentInput, taskQueue: string) {
  const file = await writeExperiment(experiment);
  const loaded = await loadExperiment(file);
  const runId = uniqueName('run');
  const outDir = join(await scratchDir('runs'), runId);
  const plan = planRun(loaded.experiment, { runId, file, sha256: loaded.sha256, outDir, env: {} });
  const handle = await startRun(client, plan, taskQueue);
  return { handle, plan, file, runId };
}

export async function finished(handle: RunHandle): Promise<Extract<RunResult, { outcome: 'finished' }>> {
  let stage = 'unknown';
  const watching = setInterval(() => {
    handle.query(statusQuery).then(
      (status) => {
        stage = status.stage;
      },
      () => undefined,
    );
  }, 5_000);
  const result = await patiently(
    handle.result(),
    () => `run ${handle.workflowId} to finish (stage: ${stage})`,
  ).finally(() => clearInterval(watching));
  if (result.outcome !== 'finished') throw new Error(`run ended ${result.outcome}`);
  return result;
}

/** An environment without the variables set to undefined, so a test can unset one. */
function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
