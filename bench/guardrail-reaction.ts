/**
 * How fast a guardrail breach becomes a reverted fault. Each run injects a toxic, then the target
 * starts failing at a moment the benchmark picks; the guardrail (every 50ms, 3 consecutive
 * failures) breaches and the run reverts. Figures come from the journal (breach decision, first
 * failing sample, revert completed) and the benchmark's own clock (failure onset).
 *
 *   npm run bench               # 20 runs
 *   npm run bench -- --runs 50
 *
 * Targets (issue 2): p99 breach→reverted ≤ 250ms; p99 onset→reverted ≤ detection window + 250ms.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { quantile } from 'simple-statistics';
import { parseExperiment } from '../src/experiment/load';
import { planRun } from '../src/experiment/plan';
import { freePort } from '../src/lab/ports';
import { startToxiproxy } from '../src/lab/toxiproxy-server';
import { startDevServer } from '../src/temporal/dev-server';
import { startRun } from '../src/temporal/start-run';
import { createGamedayWorker, installQuietRuntime } from '../src/temporal/worker';
import { PROJECT_ROOT } from '../src/tools';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const RUNS = Number(values.runs);
const EVERY_MS = 50;
const CONSECUTIVE = 3;
const DETECTION_WINDOW_MS = EVERY_MS * CONSECUTIVE;

installQuietRuntime();
const [temporal, toxiproxy] = await Promise.all([
  freePort().then((port) => startDevServer({ port })),
  freePort().then((port) => startToxiproxy(port)),
]);

let failing = false;
const service = createServer((_request, response) => response.writeHead(failing ? 503 : 200).end());
await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
const upstream = `127.0.0.1:${(service.address() as { port: number }).port}`;
const listen = `127.0.0.1:${await freePort()}`;

const experiment = parseExperiment(
  `version: 1
name: guardrail-reaction
description: The target fails at a known moment; the guardrail must revert the fault fast.
target: { environment: local }
settings:
  toxiproxy:
    url: ${toxiproxy.url}
    proxies: [{ name: bench, listen: "${listen}", upstream: "${upstream}" }]
steadyState:
  - name: target-ok
    http: { url: "http://${listen}/", timeout: 1s }
    sample: { every: 20ms, count: 5 }
guardrails:
  - name: target-up
    probe: target-ok
    every: ${EVERY_MS}ms
    abortWhen: { consecutiveFailures: ${CONSECUTIVE} }
phases:
  - name: under-fault
    duration: 1m
    faults: [{ name: bench-latency, toxiproxy: { proxy: bench, toxic: latency, attributes: { latency: 1 } } }]
recovery: { within: 5s }
`,
  'guardrail-reaction.yaml',
);

const connection = await NativeConnection.connect({ address: temporal.address });
const worker = await createGamedayWorker({ connection, namespace: 'default', taskQueue: 'bench' });
const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });

interface Measurement {
  breachToReverted: number;
  onsetToReverted: number;
  firstFailingToReverted: number;
}
const measurements: Measurement[] = [];

await worker.runUntil(async () => {
  for (let i = 0; i < RUNS; i++) {
    failing = false;
    const runId = `bench-${Date.now()}-${i}`;
    const plan = planRun(experiment, {
      runId,
      file: 'bench',
      sha256: '0',
      outDir: join('/tmp', 'gameday-bench', runId),
      env: {},
    });
    const handle = await startRun(client, plan, 'bench');
    await waitForToxic(`gameday.${runId}.bench-latency`);
    // Fail at a moment unrelated to the guardrail's sampling schedule.
    await sleep(300 + Math.random() * 400);
    failing = true;
    const onset = Date.now();
    const result = await handle.result();
    failing = false;
    if (result.outcome !== 'finished') throw new Error(`run ${runId} ended ${result.outcome}`);
    const breach = result.journal.phases[0]?.watch?.breach;
    const revertedAt = result.journal.faults[0]?.revertedAt;
    if (!breach || !revertedAt || breach.firstFailingSampleAt === null) {
      throw new Error(`run ${runId}: no breach or revert recorded (${result.verdict}: ${result.reason})`);
    }
    measurements.push({
      breachToReverted: revertedAt - breach.decidedAt,
      onsetToReverted: revertedAt - onset,
      firstFailingToReverted: revertedAt - breach.firstFailingSampleAt,
    });
    process.stderr.write(`.`);
  }
});
process.stderr.write('\n');

const figures = (pick: (m: Measurement) => number) => {
  const values = measurements.map(pick);
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: Math.max(...values) };
};
const breachToReverted = figures((m) => m.breachToReverted);
const onsetToReverted = figures((m) => m.onsetToReverted);
const firstFailingToReverted = figures((m) => m.firstFailingToReverted);
const row = (label: string, f: { p50: number; p99: number; max: number }) =>
  `${label.padEnd(34)} ${String(Math.round(f.p50)).padStart(6)} ${String(Math.round(f.p99)).padStart(6)} ${String(Math.round(f.max)).padStart(6)}`;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

console.log(
  `guardrail reaction, ${RUNS} runs; guardrail every ${EVERY_MS}ms, ${CONSECUTIVE} consecutive failures`,
);
console.log(`${''.padEnd(34)} ${'p50'.padStart(6)} ${'p99'.padStart(6)} ${'max'.padStart(6)}  (ms)`);
console.log(row('breach decision -> fault reverted', breachToReverted));
console.log(row('first failing sample -> reverted', firstFailingToReverted));
console.log(row('failure onset -> fault reverted', onsetToReverted));
console.log(`target p99 breach->reverted <= 250ms: ${verdict(breachToReverted.p99 <= 250)}`);
console.log(
  `target p99 onset->reverted <= detection window ${DETECTION_WINDOW_MS}ms + 250ms: ${verdict(onsetToReverted.p99 <= DETECTION_WINDOW_MS + 250)}`,
);

const resultsDir = join(PROJECT_ROOT, 'bench/results');
await mkdir(resultsDir, { recursive: true });
await writeFile(
  join(resultsDir, 'guardrail-reaction.json'),
  JSON.stringify(
    {
      runs: RUNS,
      everyMs: EVERY_MS,
      consecutive: CONSECUTIVE,
      breachToReverted,
      firstFailingToReverted,
      onsetToReverted,
      measurements,
    },
    null,
    2,
  ),
);

await client.connection.close();
await connection.close();
service.close();
await Promise.all([temporal.stop(), toxiproxy.stop()]);

async function waitForToxic(name: string): Promise<void> {
  for (;;) {
    const proxy = (await fetch(`${toxiproxy.url}/proxies/bench`).then((r) => (r.ok ? r.json() : null))) as {
      toxics: { name: string }[];
    } | null;
    if (proxy?.toxics.some((t) => t.name === name)) return;
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
