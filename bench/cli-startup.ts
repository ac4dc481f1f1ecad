/**
 * How fast `gameday` starts, as a user starts it: a fresh `node bin/gameday.js ...` process each
 * time, timed from spawn to exit, with the process's own peak RSS (bench/usage-at-exit.mjs).
 * `status` asks a real Temporal dev server about a run in its phase, whose guardrail's live samples
 * it summarizes as a game day's would be; `worker` is timed until it polls, which includes
 * bundling the workflows with webpack.
 *
 *   npm run bench:cli                  # 10 runs of each (3 of the worker)
 *   npm run bench:cli -- --runs 20 --gameday /elsewhere/bin/gameday.js
 *
 * Targets (issue 11): --help and validate <= 300 ms and <= 80 MiB; status <= 500 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { median } from 'simple-statistics';
import { parseExperiment } from '../src/experiment/load';
import { planRun } from '../src/experiment/plan';
import { freePort } from '../src/lab/ports';
import { startToxiproxy } from '../src/lab/toxiproxy-server';
import { startDevServer } from '../src/temporal/dev-server';
import { readRun } from '../src/temporal/run-status';
import { startRun } from '../src/temporal/start-run';
import { PROJECT_ROOT } from '../src/tools';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    'worker-runs': { type: 'string', default: '3' },
    gameday: { type: 'string', default: join(PROJECT_ROOT, 'bin/gameday.js') },
  },
});
const RUNS = Number(values.runs);
const WORKER_RUNS = Number(values['worker-runs']);
const GAMEDAY = resolve(values.gameday);
const USAGE_PRELOAD = join(PROJECT_ROOT, 'bench/usage-at-exit.mjs');
const EXAMPLE = join(PROJECT_ROOT, 'experiments/examples/checkout-latency.yaml');
const MiB = 1024 * 1024;

interface Sample {
  wallMs: number;
  peakMiB: number;
  cpuMs: number;
}

interface Figure {
  label: string;
  runs: number;
  wallMs: number;
  peakMiB: number;
  cpuMs: number;
  maxWallMs: number;
  target?: { wallMs: number; peakMiB?: number };
}

const scratch = await mkdtemp(join(tmpdir(), 'gameday-cli-bench-'));
let sequence = 0;

/**
 * One gameday process: spawned, optionally stopped once `until` matches its stdout, timed to its
 * exit (or to the match), with the peak RSS it reports as it exits.
 */
async function measure(
  args: string[],
  env: Record<string, string> = {},
  until?: { line: RegExp; onLine: (child: ChildProcess) => void },
): Promise<Sample> {
  const usageFile = join(scratch, `usage-${sequence++}.json`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', USAGE_PRELOAD, GAMEDAY, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, GAMEDAY_BENCH_USAGE: usageFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let readyAt: number | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
    if (until && readyAt === undefined && until.line.test(stdout)) {
      readyAt = performance.now();
      until.onLine(child);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const endedAt = readyAt ?? performance.now();
  if (until ? readyAt === undefined : code !== 0) {
    throw new Error(`gameday ${args.join(' ')} exited ${code}:\n${stdout}${stderr}`);
  }
  const usage = JSON.parse(await readFile(usageFile, 'utf8')) as { maxRssKiB: number; cpuUs: number };
  return { wallMs: endedAt - started, peakMiB: (usage.maxRssKiB * 1024) / MiB, cpuMs: usage.cpuUs / 1000 };
}

async function repeat(
  label: string,
  runs: number,
  once: () => Promise<Sample>,
  target?: Figure['target'],
): Promise<Figure> {
  await once(); // a first start warms the build, the page cache and Node's compile cache
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await once());
  process.stderr.write('.');
  return {
    label,
    runs,
    wallMs: median(samples.map((s) => s.wallMs)),
    peakMiB: median(samples.map((s) => s.peakMiB)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    maxWallMs: Math.max(...samples.map((s) => s.wallMs)),
    ...(target ? { target } : {}),
  };
}

const figures: Figure[] = [];
figures.push(await repeat('--help', RUNS, () => measure(['--help']), { wallMs: 300, peakMiB: 80 }));
figures.push(
  await repeat('validate checkout-latency.yaml', RUNS, () => measure(['validate', EXAMPLE]), {
    wallMs: 300,
    peakMiB: 80,
  }),
);

// A Temporal dev server with a run in progress, its worker a `gameday worker` being measured too.
const [temporal, toxiproxy] = await Promise.all([
  freePort().then((port) => startDevServer({ port })),
  freePort().then((port) => startToxiproxy(port)),
]);
const target = createServer((_request, response) => response.writeHead(200).end('ok'));
await new Promise<void>((done) => target.listen(0, '127.0.0.1', done));
const upstream = `127.0.0.1:${(target.address() as { port: number }).port}`;
const listen = `127.0.0.1:${await freePort()}`;
const temporalEnv = { TEMPORAL_ADDRESS: temporal.address, GAMEDAY_TASK_QUEUE: 'cli-bench' };
let worker: ChildProcess | undefined;
let client: Client | undefined;
try {
  const stopWhenPolling = { line: /worker polling/, onLine: (child: ChildProcess) => child.kill('SIGTERM') };
  figures.push(
    await repeat('worker (until it polls)', WORKER_RUNS, () =>
      measure(['worker'], temporalEnv, stopWhenPolling),
    ),
  );
  worker = spawn(process.execPath, [GAMEDAY, 'worker'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...temporalEnv },
    stdio: 'ignore',
  });

  const runId = `cli-bench-${Date.now()}`;
  const experiment = parseExperiment(
    `version: 1
name: cli-bench
description: A run that waits in its phase while the benchmark asks for its status.
target: { environment: local }
settings:
  toxiproxy:
    url: ${toxiproxy.url}
    proxies: [{ name: cli-bench, listen: "${listen}", upstream: "${upstream}" }]
steadyState:
  - name: target-ok
    http: { url: "http://${listen}/", timeout: 1s }
    sample: { every: 20ms, count: 3 }
guardrails:
  - { name: target-up, probe: target-ok, every: 500ms, window: 4, abortWhen: { errorRate: 0.5 } }
phases:
  - name: waiting
    duration: 10m
    faults: [{ name: latency, toxiproxy: { proxy: cli-bench, toxic: latency, attributes: { latency: 1 } } }]
recovery: { within: 5s }
`,
    'cli-bench.yaml',
  );
  const plan = planRun(experiment, {
    runId,
    file: 'cli-bench.yaml',
    sha256: '0',
    outDir: join(scratch, 'runs'),
    env: {},
  });
  client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
  const handle = await startRun(client, plan, temporalEnv.GAMEDAY_TASK_QUEUE);
  await waitForPhase(client, runId);
  figures.push(
    await repeat('status <runId> (a run in its phase)', RUNS, () => measure(['status', runId], temporalEnv), {
      wallMs: 500,
    }),
  );
  await measure(['abort', runId, '--reason', 'benchmark done'], temporalEnv);
  await handle.result();
} finally {
  worker?.kill('SIGTERM');
  if (worker && worker.exitCode === null) await new Promise((done) => worker?.on('close', done));
  await client?.connection.close();
  target.close();
  await Promise.all([temporal.stop(), toxiproxy.stop()]);
}
process.stderr.write('\n');

console.log(`gameday start-up: ${GAMEDAY} on Node ${process.version}; median of the runs after one warm-up`);
console.log(
  `${'command'.padEnd(38)} ${'runs'.padStart(4)} ${'wall ms'.padStart(8)} ${'max ms'.padStart(7)} ${'cpu ms'.padStart(7)} ${'peak MiB'.padStart(9)}  target`,
);
for (const f of figures) {
  const met = f.target && f.wallMs <= f.target.wallMs && (!f.target.peakMiB || f.peakMiB <= f.target.peakMiB);
  const target = f.target
    ? `<= ${f.target.wallMs} ms${f.target.peakMiB ? `, <= ${f.target.peakMiB} MiB` : ''}: ${met ? 'met' : 'MISSED'}`
    : '(none)';
  console.log(
    `${f.label.padEnd(38)} ${String(f.runs).padStart(4)} ${f.wallMs.toFixed(0).padStart(8)} ${f.maxWallMs.toFixed(0).padStart(7)} ${f.cpuMs.toFixed(0).padStart(7)} ${f.peakMiB.toFixed(0).padStart(9)}  ${target}`,
  );
}

const resultsDir = join(PROJECT_ROOT, 'bench/results');
await mkdir(resultsDir, { recursive: true });
await writeFile(
  join(resultsDir, 'cli-startup.json'),
  JSON.stringify({ gameday: GAMEDAY, node: process.version, figures }, null, 2),
);
await rm(scratch, { recursive: true, force: true });

async function waitForPhase(client: Client, runId: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const view = await readRun(client, runId).catch(() => null);
    // In its phase, and the watch's heartbeat has brought the guardrail's first samples.
    if (
      view?.state === 'running' &&
      view.status.stage === 'watching' &&
      view.live.some((s) => s.samples > 0)
    ) {
      return;
    }
    if (view?.state === 'closed') throw new Error(`run ${runId} ended before its phase: ${view.closedAs}`);
    if (Date.now() > deadline) throw new Error(`run ${runId} did not reach its phase in time`);
    await new Promise((done) => setTimeout(done, 100));
  }
}
