/**
 * Records the Temporal histories that test/integration/replay.test.ts replays: a full run that
 * passes (two phases, a rollback step) and one a guardrail aborts. Re-record only when a workflow
 * change is meant to break replay of old runs, and say why in the commit.
 *
 *   npx tsx scripts/record-history.ts
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { parseExperiment } from '../src/experiment/load';
import { planRun } from '../src/experiment/plan';
import { freePort } from '../src/lab/ports';
import { startToxiproxy } from '../src/lab/toxiproxy-server';
import { startDevServer } from '../src/temporal/dev-server';
import { startRun } from '../src/temporal/start-run';
import { createGamedayWorker, installQuietRuntime } from '../src/temporal/worker';
import { PROJECT_ROOT, toolBinary } from '../src/tools';

const OUT = join(PROJECT_ROOT, 'test/fixtures/histories');

installQuietRuntime();
const [temporal, toxiproxy] = await Promise.all([
  freePort().then((port) => startDevServer({ port })),
  freePort().then((port) => startToxiproxy(port)),
]);
const failing = false;
const service = createServer((request, response) => {
  if (request.method === 'POST') response.writeHead(204).end();
  else response.writeHead(failing ? 503 : 200).end();
});
await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
const upstream = `127.0.0.1:${(service.address() as { port: number }).port}`;
const listen = `127.0.0.1:${await freePort()}`;

const experiment = (name: string, phases: string) =>
  parseExperiment(
    `version: 1
name: ${name}
description: Recorded for the replay test.
target: { environment: local }
settings:
  toxiproxy:
    url: ${toxiproxy.url}
    proxies: [{ name: svc, listen: "${listen}", upstream: "${upstream}" }]
steadyState:
  - name: svc-ok
    http: { url: "http://${listen}/health" }
    sample: { every: 20ms, count: 5 }
    expect: { status: [200] }
guardrails:
  - { name: svc-up, probe: svc-ok, every: 25ms, window: 4, abortWhen: { errorRate: 0.5 } }
phases:
${phases}
recovery: { within: 5s }
rollback:
  - { name: reset, http: { url: "http://${listen}/reset", method: POST } }
`,
    `${name}.yaml`,
  );

const passing = experiment(
  'recorded-pass',
  `  - name: slow
    duration: 1s
    faults: [{ name: svc-latency, toxiproxy: { proxy: svc, toxic: latency, attributes: { latency: 20 } } }]
    expect: [{ probe: svc-ok, expect: { errorRate: 0 } }]
  - name: down
    duration: 1s
    faults: [{ name: svc-resets, toxiproxy: { proxy: svc, toxic: reset_peer, toxicity: 0.01, attributes: {} } }]`,
);
const breaching = experiment(
  'recorded-breach',
  `  - name: outage
    duration: 30s
    faults: [{ name: svc-down, toxiproxy: { proxy: svc, down: true } }]`,
);

const connection = await NativeConnection.connect({ address: temporal.address });
const worker = await createGamedayWorker({ connection, namespace: 'default', taskQueue: 'record' });
const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
await mkdir(OUT, { recursive: true });
await worker.runUntil(async () => {
  for (const [file, source] of [
    ['passed.json', passing],
    ['aborted-by-guardrail.json', breaching],
  ] as const) {
    const runId = `recorded-${file.replace('.json', '')}`;
    const plan = planRun(source, {
      runId,
      file: `${source.name}.yaml`,
      sha256: '0',
      outDir: join('/tmp', runId),
      env: {},
    });
    const handle = await startRun(client, plan, 'record');
    const result = await handle.result();
    if (result.outcome !== 'finished') throw new Error(`${runId} ended ${result.outcome}`);
    // The Temporal CLI's JSON is the format replayers and the Temporal UI read.
    const history = execFileSync(toolBinary('temporal'), [
      'workflow',
      'show',
      '--address',
      temporal.address,
      '--workflow-id',
      runId,
      '--output',
      'json',
    ]);
    await writeFile(join(OUT, file), history);
    console.log(`${file}: ${result.verdict} (${result.reason})`);
  }
});
await Promise.all([temporal.stop(), toxiproxy.stop()]);
service.close();
