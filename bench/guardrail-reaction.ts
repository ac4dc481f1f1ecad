/**
 * How fast a guardrail breach becomes a reverted fault. Each run injects a toxic, then the target
 * starts failing at a moment the benchmark picks; the guardrail breaches and the run reverts.
 * Figures come from the journal (breach decision, first failing sample, revert completed) and the
 * benchmark's own clock (failure onset). Two guardrails, one after the other:
 *
 * - HTTP: gameday's own probe of the target, every 50ms, 3 consecutive failures.
 * - PromQL: the target's error ratio as a real Prometheus scraping its /metrics every 1s has it,
 *   queried every 500ms, one evaluation over the threshold (as an alert rule without `for`).
 *
 *   npm run bench               # 20 runs of each
 *   npm run bench -- --runs 50
 *
 * Targets (issue 2): p99 breach→reverted ≤ 250ms; p99 onset→reverted ≤ detection window + 250ms.
 * Issue 14: the PromQL guardrail's onset→reverted within scrape + evaluation interval + 500ms.
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
import { metered } from '../src/lab/metrics';
import { freePort } from '../src/lab/ports';
import { startPrometheus } from '../src/lab/prometheus-server';
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
const SCRAPE_MS = 1_000;
const PROMQL_EVERY_MS = 500;

installQuietRuntime();
const [temporal, toxiproxy, prometheus] = await Promise.all([
  freePort().then((port) => startDevServer({ port })),
  freePort().then((port) => startToxiproxy(port)),
  freePort().then((port) => startPrometheus({ port, scrapeInterval: `${SCRAPE_MS / 1_000}s` })),
]);

let failing = false;
const service = createServer((request, response) => {
  if (metered('bench', request, response)) return;
  response.writeHead(failing ? 503 : 200).end();
});
await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
const upstream = `127.0.0.1:${(service.address() as { port: number }).port}`;
const listen = `127.0.0.1:${await freePort()}`;
await prometheus.setTargets('bench', [{ targets: [upstream] }]);
// The share of the last scrape interval's requests that failed: irate, so one scrape tells.
const requests = 'gameday_lab_http_requests_total{service="bench"}';
const ERROR_RATIO = `(sum(irate(${requests.replace('}', ',status=~"5.."}')}[3s])) or vector(0)) / sum(irate(${requests}[3s]))`;

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

const promqlExperiment = parseExperiment(
  `version: 1
name: guardrail-reaction-promql
description: The target fails at a known moment; a PromQL error-ratio guardrail must revert the fault.
target: { environment: local }
settings:
  toxiproxy:
    url: ${toxiproxy.url}
    proxies: [{ name: bench, listen: "${listen}", upstream: "${upstream}" }]
steadyState:
  - name: error-ratio
    prometheus: { url: "${prometheus.url}", query: '${ERROR_RATIO}', value: { max: 0.1 } }
    sample: { every: 100ms, count: 3 }
guardrails:
  - name: error-budget
    probe: error-ratio
    every: ${PROMQL_EVERY_MS}ms
    abortWhen: { consecutiveFailures: 1 }
phases:
  - name: under-fault
    duration: 1m
    faults: [{ name: bench-latency, toxiproxy: { proxy: bench, toxic: latency, attributes: { latency: 1 } } }]
recovery: { within: 10s }
`,
  'guardrail-reaction-promql.yaml',
);

const connection = await NativeConnection.connect({ address: temporal.address });
const worker = await createGamedayWorker({ connection, namespace: 'default', taskQueue: 'bench' });
const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });

interface Measurement {
  breachToReverted: number;
  onsetToReverted: number;
  firstFailingToReverted: number;
}
async function measure(experimentToRun: typeof experiment, label: string): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  process.stderr.write(`${label} `);
  for (let i = 0; i < RUNS; i++) {
    failing = false;
    if (experimentToRun === promqlExperiment) await untilRatioBelow(0.1);
    const runId = `bench-${Date.now()}-${i}`;
    const plan = planRun(experimentToRun, {
      runId,
      file: 'bench',
      sha256: '0',
      outDir: join('/tmp', 'gameday-bench', runId),
      env: {},
    });
    const handle = await startRun(client, plan, 'bench');
    await waitForToxic(`gameday.${runId}.bench-latency`);
    // Fail at a moment unrelated to the guardrail's sampling schedule (or Prometheus's scrapes).
    await sleep(300 + Math.random() * (experimentToRun === promqlExperiment ? SCRAPE_MS : 400));
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
  process.stderr.write('\n');
  return measurements;
}

// Traffic for the target while the PromQL guardrail watches: its error ratio is of real requests.
let traffic = false;
let stopTraffic = false;
const trafficLoop = (async () => {
  for (;;) {
    if (traffic)
      await fetch(`http://${upstream}/`)
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
    await sleep(10);
    if (stopTraffic) return;
  }
})();

let httpMeasurements: Measurement[] = [];
let promqlMeasurements: Measurement[] = [];
await worker.runUntil(async () => {
  httpMeasurements = await measure(experiment, 'http guardrail');
  traffic = true;
  promqlMeasurements = await measure(promqlExperiment, 'promql guardrail');
  traffic = false;
});
stopTraffic = true;
await trafficLoop;

type Figures = { p50: number; p99: number; max: number };
const figuresOf = (measurements: Measurement[]) => {
  const of = (pick: (m: Measurement) => number): Figures => {
    const values = measurements.map(pick);
    return { p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: Math.max(...values) };
  };
  return {
    breachToReverted: of((m) => m.breachToReverted),
    firstFailingToReverted: of((m) => m.firstFailingToReverted),
    onsetToReverted: of((m) => m.onsetToReverted),
  };
};
const http = figuresOf(httpMeasurements);
const promql = figuresOf(promqlMeasurements);
const ms = (value: number) => String(Math.round(value)).padStart(6);
const row = (label: string, a: Figures, b: Figures) =>
  `${label.padEnd(34)} ${ms(a.p50)} ${ms(a.p99)} ${ms(a.max)}   ${ms(b.p50)} ${ms(b.p99)} ${ms(b.max)}`;
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
const PROMQL_BOUND_MS = SCRAPE_MS + PROMQL_EVERY_MS + 500;

console.log(`guardrail reaction, ${RUNS} runs each`);
console.log(`  http:   gameday's probe every ${EVERY_MS}ms, ${CONSECUTIVE} consecutive failures`);
console.log(
  `  promql: error ratio, scraped every ${SCRAPE_MS}ms, queried every ${PROMQL_EVERY_MS}ms, 1 evaluation`,
);
console.log(
  `${''.padEnd(34)} ${'http'.padStart(13)}${''.padStart(7)}   ${'promql'.padStart(13)}\n${''.padEnd(34)} ${'p50'.padStart(6)} ${'p99'.padStart(6)} ${'max'.padStart(6)}   ${'p50'.padStart(6)} ${'p99'.padStart(6)} ${'max'.padStart(6)}  (ms)`,
);
console.log(row('breach decision -> fault reverted', http.breachToReverted, promql.breachToReverted));
console.log(
  row('first failing sample -> reverted', http.firstFailingToReverted, promql.firstFailingToReverted),
);
console.log(row('failure onset -> fault reverted', http.onsetToReverted, promql.onsetToReverted));
console.log(`target http p99 breach->reverted <= 250ms: ${verdict(http.breachToReverted.p99 <= 250)}`);
console.log(
  `target http p99 onset->reverted <= detection window ${DETECTION_WINDOW_MS}ms + 250ms: ${verdict(http.onsetToReverted.p99 <= DETECTION_WINDOW_MS + 250)}`,
);
console.log(
  `target promql p99 onset->reverted <= scrape ${SCRAPE_MS}ms + evaluation ${PROMQL_EVERY_MS}ms + 500ms: ${verdict(promql.onsetToReverted.p99 <= PROMQL_BOUND_MS)}`,
);

const resultsDir = join(PROJECT_ROOT, 'bench/results');
await mkdir(resultsDir, { recursive: true });
await writeFile(
  join(resultsDir, 'guardrail-reaction.json'),
  JSON.stringify(
    {
      runs: RUNS,
      http: { everyMs: EVERY_MS, consecutive: CONSECUTIVE, ...http, measurements: httpMeasurements },
      promql: { scrapeMs: SCRAPE_MS, everyMs: PROMQL_EVERY_MS, ...promql, measurements: promqlMeasurements },
    },
    null,
    2,
  ),
);

await client.connection.close();
await connection.close();
service.close();
await Promise.all([temporal.stop(), toxiproxy.stop(), prometheus.stop()]);

/** Between runs: Prometheus no longer sees the previous run's failures. */
async function untilRatioBelow(threshold: number): Promise<void> {
  for (;;) {
    const answer = await fetch(
      `${prometheus.url}/api/v1/query?${new URLSearchParams({ query: ERROR_RATIO })}`,
    );
    const value = ((await answer.json()) as { data: { result: { value: [number, string] }[] } }).data
      .result[0]?.value[1];
    if (value !== undefined && Number(value) < threshold) return;
    await sleep(100);
  }
}

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
