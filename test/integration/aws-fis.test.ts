/**
 * The awsFis fault against a moto server of this file's own: its FIS experiments move through
 * their states on a clock we set (1.5s a step), which is server-wide, so no other test shares it.
 */
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateExperimentTemplateCommand, FisClient, StopExperimentCommand } from '@aws-sdk/client-fis';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseExperiment } from '../../src/experiment/load';
import { planRun } from '../../src/experiment/plan';
import type { ExperimentInput } from '../../src/experiment/schema';
import { type MotoServer, setMotoTransition, startMoto } from '../../src/lab/moto-server';
import { freePort } from '../../src/lab/ports';
import { injectFis, revertFis } from '../../src/providers/faults/aws-fis';
import type { FisHandle } from '../../src/report/journal';
import { readRun } from '../../src/temporal/run-status';
import { statusQuery } from '../../workflows/messages';
import { fisExperiments, fisTemplates, MOTO_ACCOUNT, REGION } from '../aws-helpers';
import {
  finished,
  type RunningWorker,
  startExperiment,
  startWorker,
  testClient,
  uniqueName,
  waitFor,
} from '../helpers';

// Long enough that an experiment does not complete by itself before its 1s phase is over and reverted,
// on a busy machine too: a state lasts this long.
const STEP_SECONDS = 5;
const taskQueue = uniqueName('fis-tests');
let worker: RunningWorker;
let client: Client;
let moto: MotoServer;

beforeAll(async () => {
  moto = await startMoto(await freePort());
  await setMotoTransition(moto.url, 'fis::experiment', { progression: 'time', seconds: STEP_SECONDS });
  // The fleet the template's target matches: FIS fails an experiment whose target resolves to nothing.
  await new EC2Client({ region: REGION, endpoint: moto.url }).send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: 10,
      MaxCount: 10,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: 'orders' }] }],
    }),
  );
  worker = await startWorker(taskQueue);
  client = await testClient();
});
afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
  await moto?.stop();
});

const template = {
  description: 'Stop 30% of the orders fleet, as the lease collapse did',
  roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/gameday-fis`,
  targets: {
    orders: {
      resourceType: 'aws:ec2:instance',
      resourceTags: { app: 'orders' },
      selectionMode: 'PERCENT(30)',
    },
  },
  actions: {
    stop: {
      actionId: 'aws:ec2:stop-instances',
      parameters: { startInstancesAfterDuration: 'PT5M' },
      targets: { Instances: 'orders' },
    },
  },
};

/** A GET of moto's FIS API as it answers, unsigned (moto reads the service from the header). */
async function fisGet(path: string): Promise<unknown> {
  const answer = await fetch(`${moto.url}${path}`, {
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${REGION}/fis/aws4_request, SignedHeaders=host, Signature=0`,
    },
  });
  if (!answer.ok) throw new Error(`GET ${path}: ${answer.status}`);
  return answer.json();
}

function fisExperiment(phaseDuration: string, fault: object): ExperimentInput {
  return {
    version: 1,
    name: uniqueName('fis'),
    description: 'An FIS experiment for one phase.',
    target: { environment: 'local', accounts: [MOTO_ACCOUNT] },
    settings: { aws: { region: REGION, endpoint: moto.url } },
    steadyState: [
      {
        name: 'fleet',
        ec2Fleet: { tags: { app: 'none' } },
        sample: { every: '20ms', count: 1 },
        expect: { max: 0 },
      },
    ],
    phases: [
      { name: 'fis', duration: phaseDuration, faults: [{ name: 'lease-collapse', awsFis: fault as never }] },
    ],
    recovery: { within: '5s' },
  };
}

describe('the awsFis fault', () => {
  it('runs its experiment during the phase, stops it after, and deletes the inline template', async () => {
    const { handle, runId } = await startExperiment(client, fisExperiment('1s', { template }), taskQueue);
    const running = await waitFor(
      async () =>
        (await fisExperiments(moto.url)).find(
          (e) => e.tags?.['gameday:run-id'] === runId && e.state?.status === 'running',
        ),
      { what: 'the experiment to run' },
    );
    const result = await finished(handle);

    expect(result.verdict, result.reason).toBe('passed');
    const record = result.journal.faults[0];
    if (record?.handle.provider !== 'awsFis') throw new Error('expected an FIS fault');
    const fis: FisHandle = record.handle.awsFis;
    expect(fis.experimentId).toBe(running.id);
    const after = (await fisExperiments(moto.url)).find((e) => e.id === running.id);
    expect(after?.state?.status).toBe('stopped');
    expect((await fisTemplates(moto.url)).some((t) => t.tags?.['gameday:run-id'] === runId)).toBe(false);
    const observed = result.journal.phases[0]?.watch?.observations[0];
    expect(observed?.states.map((s) => s.status)).toEqual(['running']);
  });

  it('records an experiment that FIS reports stopped before the phase ends', async () => {
    // Each FIS state lasts longer here, so the watch's heartbeat can show `running` before the stop.
    await setMotoTransition(moto.url, 'fis::experiment', { progression: 'time', seconds: 5 });
    onTestFinished(() =>
      setMotoTransition(moto.url, 'fis::experiment', { progression: 'time', seconds: STEP_SECONDS }),
    );
    const { handle } = await startExperiment(client, fisExperiment('8s', { template }), taskQueue);
    const injected = await waitFor(
      async () => {
        const fault = (await handle.query(statusQuery)).faults[0];
        return fault?.status === 'injected' && fault.handle.provider === 'awsFis'
          ? fault.handle.awsFis
          : null;
      },
      { what: 'the experiment to run' },
    );
    const running = { id: injected.experimentId ?? '' };
    // Only once the watch has seen it running: the journal should show the whole story.
    await waitFor(
      async () => {
        const view = await readRun(client, handle.workflowId);
        return (
          view.state === 'running' &&
          view.observations.some((o) => o.states.some((s) => s.status === 'running'))
        );
      },
      { what: 'the watch to see the experiment running' },
    );
    // Someone stops it in the console, or one of its stop conditions fires.
    await new FisClient({ region: REGION, endpoint: moto.url }).send(
      new StopExperimentCommand({ id: running.id }),
    );
    const result = await finished(handle);

    const states = result.journal.phases[0]?.watch?.observations[0]?.states.map((s) => s.status);
    expect(states).toEqual(['running', 'stopping', 'stopped']);
    expect(result.journal.events.find((e) => e.type === 'fault.ended-early')?.message).toContain(
      'stopped during the phase',
    );
    expect(result.journal.faults[0]).toMatchObject({ status: 'reverted', alreadyGone: true });
  });

  it('starts an existing template by id and leaves the template in place', async () => {
    const created = await new FisClient({ region: REGION, endpoint: moto.url }).send(
      new CreateExperimentTemplateCommand({
        ...template,
        clientToken: uniqueName('tmpl'),
        stopConditions: [{ source: 'none' }],
      }),
    );
    const templateId = created.experimentTemplate?.id ?? '';
    const result = await finished(
      (await startExperiment(client, fisExperiment('1s', { templateId }), taskQueue)).handle,
    );

    expect(result.verdict, result.reason).toBe('passed');
    expect((await fisTemplates(moto.url)).some((t) => t.id === templateId)).toBe(true);
  });

  it('finds and stops the experiment by its run-id tag when a crash lost its id', async () => {
    const experiment = parseExperiment(JSON.stringify(fisExperiment('1s', { template })), 'x.json');
    const runId = uniqueName('crashed');
    const plan = planRun(experiment, { runId, file: 'x.json', sha256: '0', outDir: '/tmp/x', env: {} });
    const planned = plan.phases[0]?.faults[0];
    if (planned?.provider !== 'awsFis') throw new Error('expected an FIS fault');

    const injected = await injectFis(planned.awsFis, () => undefined);
    expect(injected.experimentId).not.toBeNull();
    // A second inject (a retried activity) starts nothing new: the client token matches.
    const again = await injectFis(planned.awsFis, () => undefined);
    expect(again.experimentId).toBe(injected.experimentId);

    const reverted = await revertFis(planned.awsFis); // no experimentId, no createdTemplateId
    expect(reverted).toMatchObject({ alreadyGone: false, handle: { experimentId: injected.experimentId } });
    const after = (await fisExperiments(moto.url)).find((e) => e.id === injected.experimentId);
    expect(after?.state?.status).toBe('stopped');
    expect((await fisTemplates(moto.url)).some((t) => t.tags?.['gameday:run-id'] === runId)).toBe(false);
  });

  it("creates the run's template with the file's own tags and report configuration, gameday's tags winning", async () => {
    const reportConfiguration = {
      outputs: { s3Configuration: { bucketName: 'fis-reports', prefix: 'orders' } },
      preExperimentDuration: 'PT5M',
      postExperimentDuration: 'PT5M',
    };
    const tagged = {
      ...template,
      tags: { Name: 'lease-collapse', team: 'orders', 'gameday:run-id': 'someone-else' },
      experimentReportConfiguration: reportConfiguration,
    };
    const experiment = parseExperiment(JSON.stringify(fisExperiment('1s', { template: tagged })), 'x.json');
    const runId = uniqueName('tagged');
    const plan = planRun(experiment, { runId, file: 'x.json', sha256: '0', outDir: '/tmp/x', env: {} });
    const planned = plan.phases[0]?.faults[0];
    if (planned?.provider !== 'awsFis') throw new Error('expected an FIS fault');

    const injected = await injectFis(planned.awsFis, () => undefined);
    onTestFinished(async () => {
      await revertFis(injected);
    });
    // Read as FIS answers, not through the pinned SDK, which would drop the report configuration.
    const stored = (await fisGet(`/experimentTemplates/${injected.createdTemplateId}`)) as {
      experimentTemplate: { tags: Record<string, string>; experimentReportConfiguration?: unknown };
    };
    const runTags = { 'gameday:run-id': runId, 'gameday:fault': 'lease-collapse' };
    expect(stored.experimentTemplate.tags).toEqual({ Name: 'lease-collapse', team: 'orders', ...runTags });
    expect(stored.experimentTemplate.experimentReportConfiguration).toEqual(reportConfiguration);
    const experimentTags = (await fisExperiments(moto.url)).find((e) => e.id === injected.experimentId)?.tags;
    expect(experimentTags).toEqual({ Name: 'lease-collapse', team: 'orders', ...runTags });
  });

  it('refuses, before anything starts, a template whose instance target selects past the blast radius', async () => {
    const fleet = uniqueName('fleet');
    await new EC2Client({ region: REGION, endpoint: moto.url }).send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        MinCount: 4,
        MaxCount: 4,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: fleet }] }],
      }),
    );
    const everything = {
      ...template,
      targets: {
        orders: { resourceType: 'aws:ec2:instance', resourceTags: { app: fleet }, selectionMode: 'COUNT(3)' },
      },
    };
    const experiment = fisExperiment('1s', { template: everything });
    const before = (await fisExperiments(moto.url)).length;
    const result = await finished((await startExperiment(client, experiment, taskQueue)).handle);

    expect(result.refused).toBe('invalid-target');
    expect(result.reason).toContain(
      'FIS target orders selects COUNT(3) of 4 matching instances (75%), above target.maxBlastRadius 50%',
    );
    expect((await fisExperiments(moto.url)).length).toBe(before);
  });
});
