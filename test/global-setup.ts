/**
 * Starts the real servers once for the suite's `servers` project: a Temporal dev server (in
 * memory), a Toxiproxy server, moto (AWS APIs), dynalite (DynamoDB) and Prometheus (scraping
 * what tests name in its file_sd directory every second), on free loopback ports,
 * and bundles the workflows once. Tests share them and keep apart by their own task queues, proxy
 * names, ports and run ids.
 *
 * It also marks the suite's processes (test/processes.ts) and, at the end, fails the run loudly if
 * any process the suite started is still alive, and kills it by pid.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynalite } from '../src/lab/dynamodb-server';
import { startMoto } from '../src/lab/moto-server';
import { freePort } from '../src/lab/ports';
import { startPrometheus } from '../src/lab/prometheus-server';
import { startToxiproxy } from '../src/lab/toxiproxy-server';
import { startDevServer } from '../src/temporal/dev-server';
import { bundleWorkflows } from '../src/temporal/worker';
import { PATIENCE_MS } from './patience';
import { describeProcesses, endProcesses, processesMarked, SUITE_MARK } from './processes';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    toxiproxyUrl: string;
    motoUrl: string;
    dynamoUrl: string;
    prometheusUrl: string;
    /** Where a test writes its own file_sd target file for the shared Prometheus (scrapes every 1s). */
    prometheusTargetsDir: string;
    workflowBundlePath: string;
    scratchDir: string;
  }
}

export default async function setup(project: TestProject) {
  const suite = `suite-${randomBytes(6).toString('hex')}`;
  // Set before anything starts: the servers below, the test workers and all they spawn inherit it.
  process.env[SUITE_MARK] = suite;
  const scratchDir = await mkdtemp(join(tmpdir(), 'gameday-test-'));
  const workflowBundlePath = join(scratchDir, 'workflow-bundle.js');
  const bundling = bundleWorkflows().then((bundle) => writeFile(workflowBundlePath, bundle.code));
  const starting = await Promise.allSettled([
    freePort().then((port) => startDevServer({ port, readyTimeoutMs: PATIENCE_MS })),
    freePort().then((port) => startToxiproxy(port, { timeoutMs: PATIENCE_MS })),
    freePort().then((port) => startMoto(port, PATIENCE_MS)),
    freePort().then((port) => startDynalite(port)),
    freePort().then((port) => startPrometheus({ port, timeoutMs: PATIENCE_MS })),
  ]);
  const servers = starting.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stopAll = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await rm(scratchDir, { recursive: true, force: true });
    await checkNothingLeft(suite);
  };
  const failed = [...starting, ...(await Promise.allSettled([bundling]))].find(
    (result) => result.status === 'rejected',
  );
  if (failed) {
    // The ones that did start must not outlive the failure.
    await stopAll();
    throw failed.reason;
  }
  const [temporal, toxiproxy, moto, dynamo, prometheus] = servers as [
    Awaited<ReturnType<typeof startDevServer>>,
    Awaited<ReturnType<typeof startToxiproxy>>,
    Awaited<ReturnType<typeof startMoto>>,
    Awaited<ReturnType<typeof startDynalite>>,
    Awaited<ReturnType<typeof startPrometheus>>,
  ];
  project.provide('temporalAddress', temporal.address);
  project.provide('toxiproxyUrl', toxiproxy.url);
  project.provide('motoUrl', moto.url);
  project.provide('dynamoUrl', dynamo.url);
  project.provide('prometheusUrl', prometheus.url);
  project.provide('prometheusTargetsDir', prometheus.targetsDir);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('scratchDir', scratchDir);

  return stopAll;
}

/**
 * The last word on processes: every server above is stopped and every test has ended its own, so
 * anything still carrying the suite's mark was left behind. A thrown error here would only be
 * logged by vitest; the exit code says it instead.
 */
async function checkNothingLeft(suite: string): Promise<void> {
  const left = await endProcesses(processesMarked(SUITE_MARK, suite), `${SUITE_MARK}=${suite}`);
  if (left.length === 0) return;
  process.exitCode = 1;
  process.stderr.write(
    `\nTHE SUITE LEFT ${left.length} PROCESS(ES) RUNNING; killed them by pid: ${describeProcesses(left)}\n\n`,
  );
}
