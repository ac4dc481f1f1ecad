/**
 * How fast `gameday abort` takes a fault out while the most aggressive file validate accepts is
 * sampling: settings.maxProbeRate at its ceiling, every probe at the sampling floor, guardrail
 * windows at their longest. Each run injects a toxic, samples for a while (so the watch holds
 * thousands of samples), then is aborted; the figure is abort sent → toxic gone from the
 * Toxiproxy server (polled every 2ms), and the journal's own revertedAt. It also prints what the
 * worker's memory did while the runs sampled.
 *
 *   node --expose-gc --import tsx bench/abort-reaction.ts   # 5 runs, 20s of sampling before each abort
 *   npx tsx bench/abort-reaction.ts --runs 10 --sample-for 60s
 *   npx tsx bench/abort-reaction.ts --rate 100      # the same, sampling less, for comparison
 *
 * Target (issue 10 item 7): abort → fault gone under 500ms even for this file.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { quantile } from 'simple-statistics';
import { parseDuration } from '../src/experiment/duration';
import { parseExperiment } from '../src/experiment/load';
import { planRun } from '../src/experiment/plan';
import { MAX_PROBE_RATE, SAMPLING_FLOOR_MS } from '../src/experiment/sampling';
import { freePort } from '../src/lab/ports';
import { startToxiproxy } from '../src/lab/toxiproxy-server';
import { startDevServer } from '../src/temporal/dev-server';
import { startRun } from '../src/temporal/start-run';
import { createGamedayWorker, installQuietRuntime } from '../src/temporal/worker';
import { PROJECT_ROOT } from '../src/tools';
import { abortSignal } from '../workflows/messages';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'sample-for': { type: 'string', default: '20s' },
    /** Requests a second to sample at, for comparison; the ceiling by default. */
    rate: { type: 'string', default: String(MAX_PROBE_RATE) },
  },
});
const RUNS = Number(values.runs);
const SAMPLE_FOR_MS = parseDuration(values['sample-for'] ?? '20s');
const TARGET_MS = 500;
// Half the ceiling on guardrails, half on expectations, every probe at the floor.
const PER_HALF = Math.max(1, Math.floor(Number(values.rate) / 2 / (1_000 / SAMPLING_FLOOR_MS)));

installQuietRuntime();
const [temporal, toxiproxy] = await Promise.all([
  freePort().then((port) => startDevServer({ port })),
  freePort().then((port) => startToxiproxy(port)),
]);

// The system under test in a process of its own, as it would be: the worker's CPU is the worker's.
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
const listen = `127.0.0.1:${await freePort()}`;

const guardrails = Array.from(
  { length: PER_HALF },
  (_, i) =>
    `  - { name: g${i}, probe: target-ok, every: ${SAMPLING_FLOOR_MS}ms, window: 10000, abortWhen: { consecutiveFailures: 10000, errorRate: 1, latencyP99: 10s } }`,
);
const expectations = Array.from(
  { length: PER_HALF },
  () =>
    `      - { probe: target-ok, every: ${SAMPLING_FLOOR_MS}ms, expect: { errorRate: 0.5, latencyP99: 1s } }`,
);
const source = `version: 1
name: abort-reaction
description: The most aggressive sampling validate accepts; the run is aborted mid-phase.
target: { environment: local }
settings:
  maxProbeRate: ${MAX_PROBE_RATE}
  toxiproxy:
    url: ${toxiproxy.url}
    proxies: [{ name: bench, listen: "${listen}", upstream: "127.0.0.1:${targetPort}" }]
steadyState:
  - name: target-ok
    http: { url: "http://${listen}/", timeout: 1s }
    sample: { every: ${SAMPLING_FLOOR_MS}ms, count: 5 }
guardrails:
${guardrails.join('\n')}
phases:
  - name: under-fault
    duration: 1h
    faults: [{ name: bench-latency, toxiproxy: { proxy: bench, toxic: latency, attributes: { latency: 1 } } }]
    expect:
${expectations.join('\n')}
recovery: { within: 5s }
`;
const experiment = parseExperiment(source, 'abort-reaction.yaml');
const rate = (PER_HALF * 2 * 1_000) / SAMPLING_FLOOR_MS;

const connection = await NativeConnection.connect({ address: temporal.address });
const worker = await createGamedayWorker({ connection, namespace: 'default', taskQueue: 'bench-abort' });
const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });

interface Measurement {
  abortToGone: number;
  abortToRevertedAt: number;
  samplesHeld: number;
  rssBeforeMb: number;
  rssAtAbortMb: number;
  heapAtAbortMb: number;
  /** p99 of the worker's event-loop delay while sampling: what an abort waits behind. */
  loopDelayP99Ms: number;
  /** From the run's history: abort signalled -> revert scheduled -> started -> completed (ms after the signal). */
  history: { scheduled: number; started: number; completed: number } | null;
}
const measurements: Measurement[] = [];
const mb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
/** The live heap, after a collection when node runs with --expose-gc. */
const heapMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round(process.memoryUsage().heapUsed / 1024 / 1024);
};

await worker.runUntil(async () => {
  for (let i = 0; i < RUNS; i++) {
    const runId = `bench-abort-${Date.now()}-${i}`;
    const toxic = `gameday.${runId}.bench-latency`;
    const plan = planRun(experiment, {
      runId,
      file: 'bench',
      sha256: '0',
      outDir: join('/tmp', 'gameday-bench', runId),
      reports: [],
      env: {},
    });
    const rssBeforeMb = mb();
    const handle = await startRun(client, plan, 'bench-abort');
    await waitForToxic(toxic, true);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    await sleep(SAMPLE_FOR_MS);
    loop.disable();
    const rssAtAbortMb = mb();
    const heapAtAbortMb = heapMb();
    const sentAt = Date.now();
    await handle.signal(abortSignal, { reason: 'benchmark', by: 'bench' });
    await waitForToxic(toxic, false);
    const goneAt = Date.now();
    const result = await handle.result();
    if (result.outcome !== 'finished') throw new Error(`run ${runId} ended ${result.outcome}`);
    const revertedAt = result.journal.faults[0]?.revertedAt;
    if (!revertedAt)
      throw new Error(`run ${runId}: no revert recorded (${result.verdict}: ${result.reason})`);
    measurements.push({
      abortToGone: goneAt - sentAt,
      abortToRevertedAt: revertedAt - sentAt,
      samplesHeld: Math.round((rate * SAMPLE_FOR_MS) / 1_000),
      rssBeforeMb,
      rssAtAbortMb,
      heapAtAbortMb,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      history: await revertTimeline(handle),
    });
    process.stderr.write('.');
  }
});
process.stderr.write('\n');

const figures = (pick: (m: Measurement) => number) => {
  const values = measurements.map(pick);
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: Math.max(...values) };
};
const abortToGone = figures((m) => m.abortToGone);
const abortToRevertedAt = figures((m) => m.abortToRevertedAt);
const row = (label: string, f: { p50: number; p99: number; max: number }) =>
  `${label.padEnd(36)} ${String(Math.round(f.p50)).padStart(6)} ${String(Math.round(f.p99)).padStart(6)} ${String(Math.round(f.max)).padStart(6)}`;

console.log(
  `abort reaction, ${RUNS} runs; ${PER_HALF} guardrails and ${PER_HALF} expectations every ${SAMPLING_FLOOR_MS}ms (${rate} requests/s; the ceiling is ${MAX_PROBE_RATE}), ${values['sample-for']} of sampling before each abort`,
);
console.log(`${''.padEnd(36)} ${'p50'.padStart(6)} ${'p99'.padStart(6)} ${'max'.padStart(6)}  (ms)`);
console.log(row('abort sent -> toxic gone (Toxiproxy)', abortToGone));
console.log(row('abort sent -> revertedAt (journal)', abortToRevertedAt));
console.log(
  `worker RSS: ${measurements.map((m) => `${m.rssBeforeMb} -> ${m.rssAtAbortMb} MB`).join(', ')} (before the run -> at the abort)`,
);
console.log(
  `by the server's clock, abort signalled -> revert scheduled / started / completed: ${measurements
    .map((m) => (m.history ? `${m.history.scheduled}/${m.history.started}/${m.history.completed}ms` : '?'))
    .join(', ')}`,
);
console.log(`worker live heap at the abort: ${measurements.map((m) => `${m.heapAtAbortMb} MB`).join(', ')}`);
console.log(
  `worker event-loop delay while sampling, p99: ${measurements.map((m) => `${Math.round(m.loopDelayP99Ms)}ms`).join(', ')}`,
);
console.log(
  `target abort -> fault gone < ${TARGET_MS}ms: ${abortToGone.max < TARGET_MS ? 'met' : 'MISSED'} (max)`,
);

const resultsDir = join(PROJECT_ROOT, 'bench/results');
await mkdir(resultsDir, { recursive: true });
await writeFile(
  join(resultsDir, 'abort-reaction.json'),
  JSON.stringify(
    { runs: RUNS, rate, sampleForMs: SAMPLE_FOR_MS, abortToGone, abortToRevertedAt, measurements },
    null,
    2,
  ),
);

await client.connection.close();
await connection.close();
target.kill('SIGTERM');
await Promise.all([temporal.stop(), toxiproxy.stop()]);

/** Where an abort's time went, by the server's clock: the signal, then the first revert activity. */
async function revertTimeline(handle: Awaited<ReturnType<typeof startRun>>): Promise<Measurement['history']> {
  const events = (await handle.fetchHistory()).events ?? [];
  const ms = (event: (typeof events)[number] | undefined) =>
    event?.eventTime
      ? Number(event.eventTime.seconds) * 1_000 + Math.round((event.eventTime.nanos ?? 0) / 1e6)
      : Number.NaN;
  const signalled = events.find((e) => e.workflowExecutionSignaledEventAttributes);
  const scheduled = events.find(
    (e) =>
      ms(e) >= ms(signalled) && e.activityTaskScheduledEventAttributes?.activityType?.name === 'revertFault',
  );
  const id = scheduled?.eventId?.toString();
  const started = events.find(
    (e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === id,
  );
  const completed = events.find(
    (e) => e.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() === id,
  );
  if (!signalled || !scheduled) return null;
  const after = (event: (typeof events)[number] | undefined) => ms(event) - ms(signalled);
  return { scheduled: after(scheduled), started: after(started), completed: after(completed) };
}

async function waitForToxic(name: string, present: boolean): Promise<void> {
  for (;;) {
    const proxy = (await fetch(`${toxiproxy.url}/proxies/bench`).then((r) => (r.ok ? r.json() : null))) as {
      toxics: { name: string }[];
    } | null;
    if (proxy && proxy.toxics.some((t) => t.name === name) === present) return;
    await sleep(2);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
