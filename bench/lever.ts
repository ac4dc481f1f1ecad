/**
 * How fast the safety lever empties the fleet: N runs (20 by default) mid-phase on one worker,
 * each with a toxic on a proxy of its own; the figure is `engage` (the lever workflow started, as
 * `gameday lever engage` starts it) → every run's toxic gone from the Toxiproxy server (polled
 * every 5ms), and → every run closed with its journal.
 *
 *   npm run bench:lever
 *   npx tsx bench/lever.ts --runs 50 --rounds 3
 *
 * Target (issue 15): engage → every fault of 20 running runs reverted ≤ 2s on one worker.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { quantile } from 'simple-statistics';
import { parseExperiment } from '../src/experiment/load';
import { planRun } from '../src/experiment/plan';
import { freePort } from '../src/lab/ports';
import { startToxiproxy } from '../src/lab/toxiproxy-server';
import { engageLever } from '../src/lever/engage';
import { LEVER_WORKFLOW_ID } from '../src/lever/state';
import { startDevServer } from '../src/temporal/dev-server';
import { startRun } from '../src/temporal/start-run';
import { createGamedayWorker, installQuietRuntime } from '../src/temporal/worker';
import { PROJECT_ROOT } from '../src/tools';
import { releaseLeverSignal } from '../workflows/lever';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, rounds: { type: 'string', default: '3' } },
});
const RUNS = Number(values.runs);
const ROUNDS = Number(values.rounds);
const TARGET_MS = 2_000;
const QUEUE = 'bench-lever';

installQuietRuntime();
const [temporal, toxiproxy] = await Promise.all([
  freePort().then((port) => startDevServer({ port })),
  freePort().then((port) => startToxiproxy(port)),
]);
// The system under test in a process of its own: the worker's CPU is the worker's.
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

// One proxy per run: runs on the same proxy would lock each other out.
const proxies = await Promise.all(
  Array.from({ length: RUNS }, async (_, i) => ({
    name: `bench-${i}`,
    listen: `127.0.0.1:${await freePort()}`,
  })),
);
const experiments = proxies.map((proxy) =>
  parseExperiment(
    `version: 1
name: lever-${proxy.name}
description: One of the fleet the lever stops.
target: { environment: local }
settings:
  toxiproxy:
    url: ${toxiproxy.url}
    proxies: [{ name: ${proxy.name}, listen: "${proxy.listen}", upstream: "127.0.0.1:${targetPort}" }]
steadyState:
  - name: target-ok
    http: { url: "http://${proxy.listen}/", timeout: 1s }
    sample: { every: 100ms, count: 2 }
guardrails:
  - { name: up, probe: target-ok, every: 500ms, window: 5, abortWhen: { errorRate: 1 } }
phases:
  - name: under-fault
    duration: 1h
    faults: [{ name: slow, toxiproxy: { proxy: ${proxy.name}, toxic: latency, attributes: { latency: 1 } } }]
recovery: { within: 10s }
`,
    `${proxy.name}.yaml`,
  ),
);

const connection = await NativeConnection.connect({ address: temporal.address });
const worker = await createGamedayWorker({ connection, namespace: 'default', taskQueue: QUEUE });
const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });

interface Round {
  /** `engage` had started the lever and sent every run its abort. */
  allSignalled: number;
  /** The lever workflow's own steps, ms after it started: first task / stopFleet scheduled / started / completed. */
  lever: string;
  allReverted: number;
  allClosed: number;
  slowestRun: number;
}
const rounds: Round[] = [];

await worker.runUntil(async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const handles = await Promise.all(
      experiments.map((experiment, i) => {
        const runId = `bench-lever-${Date.now()}-${round}-${i}`;
        const plan = planRun(experiment, {
          runId,
          file: 'bench',
          sha256: '0',
          outDir: join('/tmp', 'gameday-bench', runId),
          reports: [],
          env: {},
        });
        return startRun(client, plan, QUEUE);
      }),
    );
    await waitForToxics((count) => count === RUNS);
    const engagedAt = Date.now();
    await engageLever(client, { by: 'bench', at: engagedAt, reason: 'benchmark' }, QUEUE);
    const allSignalled = Date.now() - engagedAt;
    const closing = Promise.all(handles.map((handle) => handle.result().then(() => Date.now() - engagedAt)));
    await waitForToxics((count) => count === 0);
    const allReverted = Date.now() - engagedAt;
    const closed = await closing;
    rounds.push({
      allSignalled,
      lever: await leverTimeline(),
      allReverted,
      allClosed: Date.now() - engagedAt,
      slowestRun: Math.max(...closed),
    });
    await client.workflow.getHandle(LEVER_WORKFLOW_ID).signal(releaseLeverSignal, { by: 'bench' });
    await client.workflow.getHandle(LEVER_WORKFLOW_ID).result();
    process.stderr.write('.');
  }
});
process.stderr.write('\n');

const reverted = rounds.map((r) => r.allReverted);
console.log(
  `safety lever, ${RUNS} runs mid-phase on one worker, ${ROUNDS} rounds (load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores)`,
);
console.log(
  `engage -> every run sent its abort:      ${rounds.map((r) => `${r.allSignalled}ms`).join(', ')}`,
);
console.log(
  `lever task / stopFleet scheduled / started / completed: ${rounds.map((r) => r.lever).join(', ')} ms`,
);
console.log(`engage -> every toxic gone (Toxiproxy):  ${reverted.map((ms) => `${ms}ms`).join(', ')}`);
console.log(`engage -> every run closed (journal):    ${rounds.map((r) => `${r.allClosed}ms`).join(', ')}`);
console.log(
  `median ${Math.round(quantile(reverted, 0.5))}ms, max ${Math.max(...reverted)}ms; target <= ${TARGET_MS}ms: ${Math.max(...reverted) <= TARGET_MS ? 'met' : 'MISSED'} (max)`,
);

const resultsDir = join(PROJECT_ROOT, 'bench/results');
await mkdir(resultsDir, { recursive: true });
await writeFile(join(resultsDir, 'lever.json'), JSON.stringify({ runs: RUNS, rounds }, null, 2));

await client.connection.close();
await connection.close();
target.kill('SIGTERM');
await Promise.all([temporal.stop(), toxiproxy.stop()]);

/** From the lever workflow's history, by the server's clock: started -> first task -> stopFleet scheduled / started / completed. */
async function leverTimeline(): Promise<string> {
  const events = (await client.workflow.getHandle(LEVER_WORKFLOW_ID).fetchHistory()).events ?? [];
  const ms = (event: (typeof events)[number] | undefined) =>
    event?.eventTime
      ? Number(event.eventTime.seconds) * 1_000 + Math.round((event.eventTime.nanos ?? 0) / 1e6)
      : Number.NaN;
  const at = (pick: (e: (typeof events)[number]) => unknown) => ms(events.find(pick)) - ms(events[0]);
  return [
    at((e) => e.workflowTaskStartedEventAttributes),
    at((e) => e.activityTaskScheduledEventAttributes),
    at((e) => e.activityTaskStartedEventAttributes),
    at((e) => e.activityTaskCompletedEventAttributes),
  ].join('/');
}

async function waitForToxics(done: (count: number) => boolean): Promise<void> {
  for (;;) {
    const listing = (await (await fetch(`${toxiproxy.url}/proxies`)).json()) as Record<
      string,
      { toxics: { name: string }[] }
    >;
    const count = Object.values(listing).reduce(
      (total, proxy) => total + proxy.toxics.filter((t) => t.name.startsWith('gameday.')).length,
      0,
    );
    if (done(count)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
