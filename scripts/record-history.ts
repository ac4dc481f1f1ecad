/**
 * Records the Temporal histories that test/integration/replay.test.ts replays: a full run that
 * passes (two phases, a rollback step), one a guardrail aborts, and one with AWS faults (EC2 stop
 * and an FIS experiment, against moto) that holds target locks, and one with people in it (a gate
 * approved by an update, an observer note, webhooks), one whose faults overlap on the phase's
 * timeline (a late fault with a duration of its own, an expectation during it), one whose phase
 * clock starts from its injects' own moments (two faults in together), and one with a
 * continuity plan (a write probe's acknowledged writes read back after recovery). Re-record only when a workflow
 * change is meant to break replay of old runs, and say why in the commit.
 *
 *   npx tsx scripts/record-history.ts              # records the histories not there yet
 *   npx tsx scripts/record-history.ts --rerecord   # replaces them all
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { parseExperiment } from '../src/experiment/load';
import { planRun } from '../src/experiment/plan';
import { startMoto } from '../src/lab/moto-server';
import { freePort } from '../src/lab/ports';
import { startToxiproxy } from '../src/lab/toxiproxy-server';
import { startDevServer } from '../src/temporal/dev-server';
import { startRun } from '../src/temporal/start-run';
import { createGamedayWorker, installQuietRuntime } from '../src/temporal/worker';
import { PROJECT_ROOT, toolBinary } from '../src/tools';
import { approveUpdate, noteUpdate, statusQuery } from '../workflows/messages';

const OUT = join(PROJECT_ROOT, 'test/fixtures/histories');

installQuietRuntime();
const [temporal, toxiproxy, moto] = await Promise.all([
  freePort().then((port) => startDevServer({ port })),
  freePort().then((port) => startToxiproxy(port)),
  freePort().then((port) => startMoto(port)),
]);
process.env.AWS_ACCESS_KEY_ID ??= 'record';
process.env.AWS_SECRET_ACCESS_KEY ??= 'record';
await new EC2Client({ region: 'us-east-1', endpoint: moto.url }).send(
  new RunInstancesCommand({
    ImageId: 'ami-12c6146b',
    MinCount: 4,
    MaxCount: 4,
    TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: 'recorded' }] }],
  }),
);
const failing = false;
let orders = 0;
const service = createServer((request, response) => {
  // The continuity history's write probe: each order acknowledged with its id, and readable after.
  if (request.method === 'POST' && request.url === '/orders')
    response
      .writeHead(201, { 'content-type': 'application/json' })
      .end(JSON.stringify({ id: `o-${++orders}` }));
  else if (request.method === 'GET' && request.url?.startsWith('/orders/')) response.writeHead(200).end('{}');
  else if (request.method === 'POST') response.writeHead(204).end();
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

const timed = experiment(
  'recorded-timeline',
  `  - name: overlap
    duration: 2s
    faults:
      - { name: svc-latency, toxiproxy: { proxy: svc, toxic: latency, attributes: { latency: 20 } } }
      - name: svc-late
        startAfter: 500ms
        duration: 1s
        toxiproxy: { proxy: svc, toxic: latency, attributes: { latency: 30 } }
    expect: [{ probe: svc-ok, during: svc-late, expect: { errorRate: 0 } }]`,
);

// Two faults that go in together start the phase's clock from when the last was in place, as the
// injects saw it (the phase-clock-from-injects patch).
const together = experiment(
  'recorded-phase-clock',
  `  - name: both
    duration: 1s
    faults:
      - { name: svc-latency, toxiproxy: { proxy: svc, toxic: latency, attributes: { latency: 20 } } }
      - { name: svc-resets, toxiproxy: { proxy: svc, toxic: reset_peer, toxicity: 0.01, attributes: {} } }`,
);

const withPeople = parseExperiment(
  `version: 1
name: recorded-people
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
phases:
  - name: gated
    duration: 1s
    gate: { approval: required, timeout: 1m }
    faults: [{ name: svc-latency, toxiproxy: { proxy: svc, toxic: latency, attributes: { latency: 20 } } }]
recovery: { within: 5s }
notify:
  - { url: "http://${upstream}/hook", format: json }
`,
  'recorded-people.yaml',
);

const withAws = parseExperiment(
  `version: 1
name: recorded-aws
description: Recorded for the replay test.
target: { environment: local, accounts: ['123456789012'], regions: [us-east-1] }
settings:
  aws: { region: us-east-1, endpoint: "${moto.url}" }
steadyState:
  - name: fleet
    ec2Fleet: { tags: { app: recorded } }
    sample: { every: 20ms, count: 2 }
    expect: { min: 4 }
phases:
  - name: lose-capacity
    duration: 1s
    faults:
      - { name: stop-some, awsEc2: { action: stop, tags: { app: recorded }, selection: COUNT(2) } }
      - name: fis-stop
        awsFis:
          template:
            description: recorded
            roleArn: 'arn:aws:iam::123456789012:role/fis'
            targets: { i: { resourceType: 'aws:ec2:instance', resourceTags: { app: recorded }, selectionMode: COUNT(1) } }
            actions: { stop: { actionId: 'aws:ec2:stop-instances', targets: { Instances: i } } }
recovery: { within: 10s }
`,
  'recorded-aws.yaml',
);

const withContinuity = parseExperiment(
  `version: 1
name: recorded-continuity
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
  - name: svc-write
    http: { url: "http://${listen}/orders", method: POST, ackId: id }
    sample: { every: 20ms, count: 5 }
phases:
  - name: slow
    duration: 1s
    faults: [{ name: svc-latency, toxiproxy: { proxy: svc, toxic: latency, attributes: { latency: 20 } } }]
    expect: [{ probe: svc-write, expect: { errorRate: 0 } }]
recovery: { within: 5s }
continuity:
  services:
    - name: svc
      rto: 5s
      rpo: 0s
      slo: [svc-ok, svc-write]
      writeProbe: svc-write
      readBack: { http: { url: "http://${listen}/orders/{id}" } }
`,
  'recorded-continuity.yaml',
);

const connection = await NativeConnection.connect({ address: temporal.address });
const worker = await createGamedayWorker({ connection, namespace: 'default', taskQueue: 'record' });
const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
await mkdir(OUT, { recursive: true });
await worker.runUntil(async () => {
  for (const [file, source] of [
    ['passed.json', passing],
    ['aborted-by-guardrail.json', breaching],
    ['aws-ec2-and-fis.json', withAws],
    ['gate-note-notify.json', withPeople],
    ['fault-timeline.json', timed],
    ['continuity.json', withContinuity],
    ['phase-clock.json', together],
  ] as const) {
    // A recorded history is a promise to runs of that era: keep it, unless told to re-record.
    if (existsSync(join(OUT, file)) && !process.argv.includes('--rerecord')) {
      console.log(`${file}: kept (--rerecord replaces it)`);
      continue;
    }
    const runId = `recorded-${file.replace('.json', '')}`;
    const plan = planRun(source, {
      runId,
      file: `${source.name}.yaml`,
      sha256: '0',
      outDir: join('/tmp', runId),
      env: {},
    });
    const handle = await startRun(client, plan, 'record');
    if (plan.phases.some((phase) => phase.gate)) {
      // An observer writes a note at the gate, then someone approves it.
      while (!(await handle.query(statusQuery)).waiting) await setTimeout(50);
      await handle.executeUpdate(noteUpdate, { args: [{ by: 'recorder', text: 'at the gate' }] });
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'recorder' }] });
    }
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
await Promise.all([temporal.stop(), toxiproxy.stop(), moto.stop()]);
service.close();
