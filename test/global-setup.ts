/**
 * Starts the real servers once for the whole suite: a Temporal dev server (in memory), a Toxiproxy
 * server, moto (AWS APIs) and dynalite (DynamoDB), on free loopback ports, and bundles the
 * workflows once. Tests share them and
 * keep apart by their own task queues, proxy names, ports and run ids.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynalite } from '../src/lab/dynamodb-server';
import { startMoto } from '../src/lab/moto-server';
import { freePort } from '../src/lab/ports';
import { startToxiproxy } from '../src/lab/toxiproxy-server';
import { startDevServer } from '../src/temporal/dev-server';
import { bundleWorkflows } from '../src/temporal/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    toxiproxyUrl: string;
    motoUrl: string;
    dynamoUrl: string;
    workflowBundlePath: string;
    scratchDir: string;
  }
}

export default async function setup(project: TestProject) {
  const scratchDir = await mkdtemp(join(tmpdir(), 'gameday-test-'));
  const [temporal, toxiproxy, moto, dynamo, bundle] = await Promise.all([
    freePort().then((port) => startDevServer({ port })),
    freePort().then((port) => startToxiproxy(port)),
    freePort().then((port) => startMoto(port)),
    freePort().then((port) => startDynalite(port)),
    bundleWorkflows(),
  ]);
  const workflowBundlePath = join(scratchDir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);

  project.provide('temporalAddress', temporal.address);
  project.provide('toxiproxyUrl', toxiproxy.url);
  project.provide('motoUrl', moto.url);
  project.provide('dynamoUrl', dynamo.url);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('scratchDir', scratchDir);

  return async () => {
    await Promise.all([temporal.stop(), toxiproxy.stop(), moto.stop(), dynamo.stop()]);
    await rm(scratchDir, { recursive: true, force: true });
  };
}
