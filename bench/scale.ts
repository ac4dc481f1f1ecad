/**
 * Many game days at once (issue 17): N concurrent runs, each with its own Toxiproxy proxy, a
 * latency fault, a 100ms guardrail and a phase expectation, over W `gameday worker` processes
 * (separate processes, as they would be on separate machines) against one Temporal dev server.
 *
 *   npm run bench:scale                                  # N in 10,50,100,200 × W in 1,2
 *   npm run bench:scale -- --runs 10 --workers 1         # a quick look
 *   npm run bench:scale -- --runs 100 --workers 1 --phase 30s --phases 3 --label after
 *
 * Per (N, W) it prints: runs finished and their verdicts; faults left (asked of Toxiproxy after
 * the last run ended: must be 0); guardrail and expectation samples delivered, against what their
 * windows planned; schedule drift (how late samples started against start + k × every, as each
 * watch recorded it: p50 is the median run's, p99 the worst run's); first-sample delay (the
 * guardrail's first sample after the phase's faults were in place, and how much of it went to
 * getting the watch started); worker RSS per run (peak over the batch less before it); history
 * events per run and per phase, and workflow tasks that timed out; and the CPU left idle on the machine while every run sampled, with
 * each process's share and the workers' worst event-loop delay. The figures also go to
 * bench/results/scale[-label].json.
 *
 * Targets (issue 17): 1 worker, 100 runs and 2 workers, 200 runs: ≥ 99% delivered, drift p99 <
 * 50ms, first sample ≤ 150ms after the faults are in place, 0 faults left.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { quantile } from 'simple-statistics';
import { parseExperiment } from '../src/experiment/load';
import { planRun } from '../src/experiment/plan';
import { freePort } from '../src/lab/ports';
import { startToxiproxy } from '../src/lab/toxiproxy-server';
import type { Journal, ProbeSummary } from '../src/report/journal';
import { startDevServer } from '../src/temporal/dev-server';
import { startRun } from '../src/temporal/start-run';
import { PROJECT_ROOT } from '../src/tools';
import { CORES, MachineMonitor, rssMiB, type Watched } from './scale-machine';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10,50,100,200' },
    workers: { type: 'string', default: '1,2' },
    phase: { type: 'string', default: '20s' },
    phases: { type: 'string', default: '1' },
    label: { type: 'string', default: '' },
  },
});
const list = (text: string | undefined) => (text ?? '').split(',').map(Number).filter(Boolean);
const RUNS = list(values.runs);
const WORKERS = list(values.workers);
const PHASES = Number(values.phases);
const TARGET = { delivered: 0.99, driftP99Ms: 50, firstSampleMs: 150 };

// Started side by side; if one does not come up, the other is stopped before the error ends this.
const [temporalStart, toxiproxyStart] = await Promise.allSettled([
  freePort().then((port) => startDevServer({ port })),
  freePort().then((port) => startToxiproxy(port)),
]);
if (temporalStart.status === 'rejected' || toxiproxyStart.status === 'rejected') {
  await Promise.all([
    temporalStart.status === 'fulfilled' ? temporalStart.value.stop() : undefined,
    toxiproxyStart.status === 'fulfilled' ? toxiproxyStart.value.stop() : undefined,
  ]);
  throw temporalStart.status === 'rejected'
    ? temporalStart.reason
    : (toxiproxyStart as PromiseRejectedResult).reason;
}
const temporal = temporalStart.value;
const toxiproxy = toxiproxyStart.value;
// The service under test in a process of its own: its CPU is not the workers'.
const targetPort = await freePort();
const target = spawn(
  process.execPath,
  [
    '-e',
    `require('node:http').createServer((q, s) => s.writeHead(200).end('ok')).listen(${targetPort}, '127.0.0.1', () => console.log('up'))`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await new Promise((resolve) => target.stdout?.once('data', resolve));
const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
const outDir = await mkdtemp(join(tmpdir(), 'gameday-bench-scale-'));
const LOOP_PRELOAD = pathToFileURL(join(PROJECT_ROOT, 'bench/loop-delay.mjs')).href;

interface BenchWorker {
  child: ChildProcess;
  loopFile: string;
  exited: Promise<void>;
}

/** `gameday worker` as an operator runs it, once it polls. */
async function startWorker(taskQueue: string, n: number): Promise<BenchWorker> {
  const loopFile = join(outDir, `${taskQueue}-worker-${n}.loop.json`);
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/gameday.js'), 'worker'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporal.address,
      GAMEDAY_TASK_QUEUE: taskQueue,
      GAMEDAY_BENCH_LOOP: loopFile,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${LOOP_PRELOAD}`.trim(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('worker polling')) resolve();
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.once('exit', (code) => reject(new Error(`worker exited ${code} before polling: ${output}`)));
  });
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  // A worker's warnings are worth seeing: a failed workflow task, a missed heartbeat.
  child.stderr?.removeAllListeners('data');
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`  worker ${n}: ${chunk}`));
  return { child, loopFile, exited };
}

function experimentSource(name: string, proxy: string, listen: string): string {
  const phases = Array.from(
    { length: PHASES },
    (_, k) => `  - name: slow-${k + 1}
    duration: ${values.phase}
    faults: [{ name: latency-${k + 1}, toxiproxy: { proxy: ${proxy}, toxic: latency, attributes: { latency: 20 } } }]
    expect:
      - { probe: service-ok, every: 1s, expect: { errorRate: 0.01 } }`,
  );
  return `version: 1
name: ${name}
description: One of many game days at once; the fault must not trip the guardrail.
target: { environment: local }
settings:
  toxiproxy:
    url: ${toxiproxy.url}
    proxies: [{ name: ${proxy}, listen: "${listen}", upstream: "127.0.0.1:${targetPort}" }]
steadyState:
  - name: service-ok
    http: { url: "http://${listen}/", timeout: 1s }
    sample: { every: 100ms, count: 3 }
guardrails:
  - { name: service-up, probe: service-ok, every: 100ms, abortWhen: { consecutiveFailures: 10 } }
phases:
${phases.join('\n')}
recovery: { within: 30s }
`;
}

const figures = (values: number[]) =>
  values.length
    ? { p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: Math.max(...values) }
    : { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };

/** What one phase of one run showed, from its journal. */
function phaseFigures(journal: Journal) {
  return journal.phases.flatMap((phase) => {
    const watch = phase.watch;
    const guardrail = watch?.guardrails[0];
    const expectation = watch?.expectations[0]?.summary;
    const injected = journal.faults
      .filter((f) => f.handle.phase === phase.name)
      .map((f) => f.injectedAt ?? Number.NaN);
    const faultsInAt = Math.max(...injected);
    if (!watch || !guardrail || !Number.isFinite(faultsInAt)) return [];
    const watchStartedAt = watch.attemptWindows?.[0]?.startedAt ?? Number.NaN;
    return [
      {
        guardrail,
        expectation,
        faultsInAt,
        endedAt: watch.endedAt,
        firstSampleMs: guardrail.samples ? guardrail.from - faultsInAt : Number.NaN,
        watchStartMs: watchStartedAt - faultsInAt,
      },
    ];
  });
}

/** A request through the 20ms toxic, with room: a sample fired later is still running at the end. */
const TAIL_MS = 50;

/**
 * Samples taken against the fires planned every `everyMs` from the faults in place to the watch's
 * end (less the tail): a watch that starts late loses the samples it should have taken meanwhile.
 */
const delivered = (windows: { summary: ProbeSummary | undefined; from: number; to: number }[]) => {
  let taken = 0;
  let planned = 0;
  for (const { summary, from, to } of windows) {
    if (!summary?.everyMs) continue;
    taken += summary.samples;
    planned += Math.floor(Math.max(0, to - from - TAIL_MS) / summary.everyMs) + 1;
  }
  return planned ? taken / planned : Number.NaN;
};

/** temporal.api.enums.v1.TimeoutType */
const TIMEOUT_TYPE_START_TO_CLOSE = 1;

/** Each run's history length, and its workflow tasks that a worker held past their 3s timeout. */
async function historyEvents(runIds: string[]): Promise<{ counts: number[]; taskTimeouts: number }> {
  const counts: number[] = [];
  let taskTimeouts = 0;
  for (let i = 0; i < runIds.length; i += 20) {
    const batch = runIds.slice(i, i + 20);
    const histories = await Promise.all(
      batch.map(async (id) => (await client.workflow.getHandle(id).fetchHistory()).events ?? []),
    );
    for (const events of histories) {
      counts.push(events.length);
      // START_TO_CLOSE: held by a worker past the 3s timeout (SCHEDULE_TO_START is the sticky
      // queue's 1s handing a task to the shared queue).
      taskTimeouts += events.filter(
        (event) => event.workflowTaskTimedOutEventAttributes?.timeoutType === TIMEOUT_TYPE_START_TO_CLOSE,
      ).length;
    }
  }
  return { counts, taskTimeouts };
}

/**
 * Where the time from faults in place to the watch's start goes, by the server's clock: each
 * history event from the last inject's completion to the watch's scheduling, ms after `from`.
 */
async function toWatchStart(runId: string, from: number): Promise<string[]> {
  const events = (await client.workflow.getHandle(runId).fetchHistory()).events ?? [];
  const ms = (event: (typeof events)[number]) =>
    Number(event.eventTime?.seconds ?? 0) * 1_000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);
  const watchScheduled = events.findIndex(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'watchPhase',
  );
  const injectScheduled = events.findIndex(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'injectFault',
  );
  return events.slice(injectScheduled, watchScheduled + 1).map((event) => {
    const kind = Object.keys(event).find(
      (key) => key.endsWith('EventAttributes') && event[key as keyof typeof event],
    );
    return `${ms(event) - from}ms ${kind?.replace('EventAttributes', '')}`;
  });
}

async function faultsLeft(proxies: string[]): Promise<number> {
  const all = (await fetch(`${toxiproxy.url}/proxies`).then((r) => r.json())) as Record<
    string,
    { enabled: boolean; toxics: { name: string }[] }
  >;
  return proxies.reduce((sum, name) => {
    const proxy = all[name];
    return sum + (proxy ? proxy.toxics.length + (proxy.enabled ? 0 : 1) : 0);
  }, 0);
}

let busyServer = 0;
/**
 * A run's result. A dev server short of CPU lets a long poll for it run out (DEADLINE_EXCEEDED):
 * that says nothing about the run, so ask again, and count it.
 */
async function resultOf(handle: Awaited<ReturnType<typeof startRun>>) {
  for (;;) {
    try {
      return await handle.result();
    } catch (error) {
      const code = (error as { cause?: { code?: number } }).cause?.code;
      if (code !== 4 && code !== 14) throw error;
      busyServer++;
    }
  }
}

/** Every worker still running, so that a failing benchmark leaves none behind. */
const running = new Set<BenchWorker>();

async function batch(n: number, w: number) {
  busyServer = 0;
  const tag = `n${n}w${w}-${Date.now().toString(36)}`;
  const taskQueue = `bench-scale-${tag}`;
  const workers = await Promise.all(Array.from({ length: w }, (_, i) => startWorker(taskQueue, i + 1)));
  for (const worker of workers) running.add(worker);
  const watched: Watched[] = [
    ...workers.map((worker, i) => ({
      label: `worker${i + 1}`,
      pid: worker.child.pid ?? -1,
      loopFile: worker.loopFile,
    })),
    { label: 'temporal', pid: temporal.process.pid ?? -1 },
    { label: 'toxiproxy', pid: toxiproxy.pid },
    { label: 'service', pid: target.pid ?? -1 },
    { label: 'bench', pid: process.pid },
  ];
  const rssBefore = workers.map((worker) => rssMiB(worker.child.pid ?? -1));
  const runs = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const proxy = `scale-${tag}-${i}`;
      const source = experimentSource(proxy, proxy, `127.0.0.1:${await freePort()}`);
      const runId = `${proxy}-run`;
      const plan = planRun(parseExperiment(source, `${proxy}.yaml`), {
        runId,
        file: 'bench',
        sha256: '0',
        outDir: join(outDir, runId),
        reports: [],
        env: {},
      });
      return { runId, proxy, plan };
    }),
  );
  const monitor = new MachineMonitor(watched);
  const startedAt = Date.now();
  const handles = await Promise.all(runs.map((run) => startRun(client, run.plan, taskQueue)));
  const results = await Promise.all(handles.map(resultOf));
  const finishedAt = Date.now();
  monitor.stop();
  const left = await faultsLeft(runs.map((run) => run.proxy));
  const { counts: events, taskTimeouts } = await historyEvents(runs.map((run) => run.runId));

  const journals = results.flatMap((result) => (result.outcome === 'finished' ? [result.journal] : []));
  const verdicts: Record<string, number> = {};
  for (const result of results) {
    const key = result.outcome === 'finished' ? result.verdict : result.outcome;
    verdicts[key] = (verdicts[key] ?? 0) + 1;
  }
  const phases = journals.flatMap(phaseFigures);
  const firstPhases = journals.flatMap((journal) => phaseFigures(journal).slice(0, 1));
  // While every run sampled: from the last run's faults in place to the first run's phase end.
  const allSampling = {
    from: Math.max(...firstPhases.map((p) => p.faultsInAt)),
    to: Math.min(...firstPhases.map((p) => p.endedAt)),
  };
  const machine = monitor.window(allSampling.from, allSampling.to);
  const sample = journals[0] ? phaseFigures(journals[0])[0] : undefined;
  const timeline = sample && journals[0] ? await toWatchStart(journals[0].runId, sample.faultsInAt) : [];
  const lates = phases.flatMap((p) => [p.guardrail.lateMs, p.expectation?.lateMs]).filter((l) => l);
  const peakRss = workers.map((_, i) => machine.peakRssMiB[`worker${i + 1}`] ?? 0);
  const row = {
    runs: n,
    workers: w,
    finished: journals.length,
    verdicts,
    faultsLeft: left,
    deliveredGuardrails: delivered(
      phases.map((p) => ({ summary: p.guardrail, from: p.faultsInAt, to: p.endedAt })),
    ),
    deliveredExpectations: delivered(
      phases.map((p) => ({ summary: p.expectation, from: p.faultsInAt, to: p.endedAt })),
    ),
    driftMs: {
      p50: figures(lates.map((l) => l?.p50 ?? 0)).p50,
      p99: Math.max(...lates.map((l) => l?.p99 ?? 0)),
    },
    firstSampleMs: figures(phases.map((p) => p.firstSampleMs).filter(Number.isFinite)),
    watchStartMs: figures(phases.map((p) => p.watchStartMs).filter(Number.isFinite)),
    rssPerRunMiB: (peakRss.reduce((a, b) => a + b, 0) - rssBefore.reduce((a, b) => a + b, 0)) / n,
    workerPeakRssMiB: peakRss,
    historyEvents: figures(events),
    eventsPerPhase: figures(events).p50 / PHASES,
    workflowTaskTimeouts: taskTimeouts,
    batchSeconds: (finishedAt - startedAt) / 1_000,
    allSamplingSeconds: machine.seconds,
    idleCores: machine.idleCores,
    /** What the machine's other processes (other people's, here) took meanwhile. */
    othersCores: CORES - machine.idleCores - Object.values(machine.coresBy).reduce((a, b) => a + b, 0),
    coresBy: machine.coresBy,
    /** One run's first phase: from the inject's schedule to the watch's, ms after the faults were in. */
    timeline: [...timeline, sample ? `${sample.watchStartMs}ms watch started (journal)` : ''],
    /** Long polls for a result that ran out on a busy server (asked again). */
    resultPollsTimedOut: busyServer,
    workerLoopP99Ms: workers.map((_, i) => machine.loopP99Ms[`worker${i + 1}`] ?? Number.NaN),
  };
  for (const worker of workers) worker.child.kill('SIGTERM');
  await Promise.all(workers.map((worker) => worker.exited));
  for (const worker of workers) running.delete(worker);
  await Promise.all(
    runs.map((run) => fetch(`${toxiproxy.url}/proxies/${run.proxy}`, { method: 'DELETE' }).catch(() => {})),
  );
  return row;
}

type Row = Awaited<ReturnType<typeof batch>>;
const rows: Row[] = [];
const r = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '-');
const header = [
  'N',
  'W',
  'done',
  'verdicts',
  'left',
  'deliv g/e',
  'drift p50/p99',
  'first p50/p99/max',
  'watch-start p99',
  'RSS/run',
  'events/run',
  'WFT timeouts',
  'CPU left (others)',
  'workers/temporal/toxi CPU',
  'mCPU/run w/t',
  'loop p99',
];
const workerCores = (row: Row) =>
  Object.entries(row.coresBy)
    .filter(([label]) => label.startsWith('worker'))
    .reduce((sum, [, cores]) => sum + cores, 0);
const line = (row: Row) => [
  String(row.runs),
  String(row.workers),
  String(row.finished),
  Object.entries(row.verdicts)
    .map(([v, c]) => `${c} ${v}`)
    .join(', '),
  String(row.faultsLeft),
  `${pct(row.deliveredGuardrails)}/${pct(row.deliveredExpectations)}`,
  `${r(row.driftMs.p50, 1)}/${r(row.driftMs.p99)}ms`,
  `${r(row.firstSampleMs.p50)}/${r(row.firstSampleMs.p99)}/${r(row.firstSampleMs.max)}ms`,
  `${r(row.watchStartMs.p99)}ms`,
  `${r(row.rssPerRunMiB, 2)}MiB`,
  `${r(row.historyEvents.p50)} (${r(row.eventsPerPhase)}/phase)`,
  String(row.workflowTaskTimeouts),
  `${r(row.idleCores, 2)}/${CORES} (${r(row.othersCores, 2)})`,
  `${r(workerCores(row), 2)}/${r(row.coresBy.temporal ?? Number.NaN, 2)}/${r(row.coresBy.toxiproxy ?? Number.NaN, 2)}`,
  `${r((workerCores(row) * 1_000) / row.runs)}/${r(((row.coresBy.temporal ?? Number.NaN) * 1_000) / row.runs)}`,
  row.workerLoopP99Ms.map((v) => `${r(v)}ms`).join(','),
];

console.log(
  `scale: ${PHASES} phase(s) of ${values.phase} per run, a 20ms latency toxic, a 100ms guardrail and a 1s expectation; ${CORES} cores, Node ${process.version}`,
);
const resultsDir = join(PROJECT_ROOT, 'bench/results');
/** After every batch: a benchmark that fails later keeps what it measured. */
async function saveRows(): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  await writeFile(
    join(resultsDir, `scale${values.label ? `-${values.label}` : ''}.json`),
    JSON.stringify(
      { node: process.version, cores: CORES, phase: values.phase, phases: PHASES, rows },
      null,
      2,
    ),
  );
}

console.log(header.join(' | '));
try {
  for (const w of WORKERS) {
    for (const n of RUNS) {
      const row = await batch(n, w);
      rows.push(row);
      console.log(line(row).join(' | '));
      await saveRows();
    }
  }
} finally {
  for (const worker of running) worker.child.kill('SIGKILL');
  await Promise.all([...running].map((worker) => worker.exited));
  await client.connection.close();
  target.kill('SIGTERM');
  await Promise.all([temporal.stop(), toxiproxy.stop()]);
}
const meets = (row: Row) =>
  row.finished === row.runs &&
  row.faultsLeft === 0 &&
  row.deliveredGuardrails >= TARGET.delivered &&
  row.deliveredExpectations >= TARGET.delivered &&
  row.driftMs.p99 < TARGET.driftP99Ms &&
  row.firstSampleMs.max <= TARGET.firstSampleMs;
for (const [n, w] of [
  [100, 1],
  [200, 2],
]) {
  const row = rows.find((x) => x.runs === n && x.workers === w);
  if (row) console.log(`target ${n} runs on ${w} worker(s): ${meets(row) ? 'met' : 'MISSED'}`);
}
