/**
 * `gameday sweep` after the Temporal database is lost: a run mid-phase has a toxic, a disabled
 * proxy, stopped instances and a running FIS experiment in place when its dev server's database
 * file is deleted. On a fresh server the sweep lists exactly those faults, `--apply` reverts them,
 * and a live run's toxic, a stranger's toxic and a proxy someone else disabled are left alone.
 * The sweep looks at whole servers, so this file has its own Temporal, Toxiproxy and moto: it
 * must not revert the other tests' faults.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ExperimentInput } from '../../src/experiment/schema';
import { setMotoTransition, startMoto } from '../../src/lab/moto-server';
import { freePort } from '../../src/lab/ports';
import { startToxiproxy } from '../../src/lab/toxiproxy-server';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server';
import { fisExperiments, instanceStates, launchInstances, MOTO_ACCOUNT, REGION } from '../aws-helpers';
import {
  experimentFor,
  gameday,
  proxyState,
  scratchDir,
  startTarget,
  startWorkerProcess,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';
import { PATIENCE_MS } from '../patience';

const fisTemplate = (fleet: string) => ({
  description: 'Stop part of the fleet',
  roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/gameday-fis`,
  targets: {
    fleet: { resourceType: 'aws:ec2:instance', resourceTags: { app: fleet }, selectionMode: 'COUNT(1)' },
  },
  actions: {
    stop: {
      actionId: 'aws:ec2:stop-instances',
      parameters: { startInstancesAfterDuration: 'PT5M' },
      targets: { Instances: 'fleet' },
    },
  },
});

describe('gameday sweep', () => {
  it('finds and reverts exactly the faults of runs a lost Temporal database forgot', async () => {
    const [toxiproxy, moto] = await Promise.all([
      freePort().then((port) => startToxiproxy(port, { timeoutMs: PATIENCE_MS })),
      freePort().then((port) => startMoto(port, PATIENCE_MS)),
    ]);
    onTestFinished(() => toxiproxy.stop());
    onTestFinished(() => moto.stop());
    // moto moves an experiment one state per 20 GetExperiment calls: inject's polls bring it to
    // running, and it is still running, with nobody polling, when the sweep stops it.
    await setMotoTransition(moto.url, 'fis::experiment', { progression: 'manual', times: 20 });
    const home = await scratchDir('sweep');
    const port = await freePort();
    let server: DevServer = await startDevServer({ port, dbFile: join(home, 'temporal.db') });
    onTestFinished(() => server.stop());
    const env = {
      TEMPORAL_ADDRESS: server.address,
      TOXIPROXY_URL: toxiproxy.url,
      GAMEDAY_TASK_QUEUE: uniqueName('sweep'),
      AWS_ENDPOINT_URL: moto.url,
      AWS_REGION: REGION,
    };
    const at = { toxiproxy: toxiproxy.url };
    const [slowed, cut, live, stranger] = await Promise.all([
      startTarget('slowed', at),
      startTarget('cut', at),
      startTarget('live', at),
      startTarget('stranger', at),
    ]);
    const fleet = uniqueName('fleet');
    const stopFleet = uniqueName('stop-fleet');
    const [stopped] = await launchInstances(1, { app: stopFleet }, moto.url);
    await launchInstances(2, { app: fleet }, moto.url);

    // A toxic and a disabled proxy that are not gameday's.
    const strangers = await fetch(`${toxiproxy.url}/proxies/${slowed.proxy}/toxics`, {
      method: 'POST',
      body: JSON.stringify({ name: 'someone-elses', type: 'latency', attributes: { latency: 1 } }),
    });
    expect(strangers.ok).toBe(true);
    await fetch(`${toxiproxy.url}/proxies/${stranger.proxy}`, {
      method: 'PATCH',
      body: JSON.stringify({ enabled: false }),
    });

    const orphan: ExperimentInput = experimentFor(slowed, {
      target: { environment: 'local', accounts: [MOTO_ACCOUNT], maxBlastRadius: 100 },
      settings: { toxiproxy: { url: toxiproxy.url }, aws: { region: REGION, endpoint: moto.url } },
      phases: [
        {
          name: 'everything',
          duration: '10m',
          faults: [
            {
              name: 'slow',
              toxiproxy: { proxy: slowed.proxy, toxic: 'latency', attributes: { latency: 20 } },
            },
            { name: 'cut', toxiproxy: { proxy: cut.proxy, down: true } },
            { name: 'stop', awsEc2: { action: 'stop', tags: { app: stopFleet } } },
            { name: 'fis', awsFis: { template: fisTemplate(fleet) } as never },
          ],
        },
      ],
    });
    let worker = await startWorkerProcess(env);
    const orphanId = uniqueName('orphan');
    const orphanRun = gameday(
      ['run', await writeExperiment(orphan), '--id', orphanId, '--out', join(home, 'runs')],
      env,
    );
    await waitFor(
      async () => {
        const [slow, down, states, experiments] = await Promise.all([
          proxyState(slowed.proxy, toxiproxy.url),
          proxyState(cut.proxy, toxiproxy.url),
          instanceStates([stopped ?? ''], moto.url),
          fisExperiments(moto.url),
        ]);
        return (
          slow.toxics.includes(`gameday.${orphanId}.slow`) &&
          !down.enabled &&
          states[stopped ?? ''] === 'stopped' &&
          experiments.some((e) => e.tags?.['gameday:run-id'] === orphanId && e.state?.status === 'running')
        );
      },
      { what: 'every fault of the run in place', intervalMs: 200 },
    );

    // The database is lost: the server, the worker and the CLI that followed the run go with it.
    worker.child.kill('SIGKILL');
    server.process.kill('SIGKILL');
    await Promise.all([worker.done, new Promise((resolve) => server.process.once('exit', resolve))]);
    orphanRun.child.kill('SIGKILL');
    await orphanRun.done;
    await rm(join(home, 'temporal.db'), { force: true });
    await rm(join(home, 'temporal.db-wal'), { force: true });
    await rm(join(home, 'temporal.db-shm'), { force: true });
    server = await startDevServer({ port, dbFile: join(home, 'temporal.db') });
    worker = await startWorkerProcess(env);
    onTestFinished(async () => {
      worker.child.kill('SIGTERM');
      await worker.done;
    });

    // A run that is live on the new server, with its own toxic.
    const liveId = uniqueName('live');
    const liveExperiment = experimentFor(live, {
      settings: { toxiproxy: { url: toxiproxy.url } },
      phases: [
        {
          name: 'long',
          duration: '10m',
          faults: [
            { name: 'slow', toxiproxy: { proxy: live.proxy, toxic: 'latency', attributes: { latency: 5 } } },
          ],
        },
      ],
    });
    const liveRun = gameday(
      ['run', await writeExperiment(liveExperiment), '--id', liveId, '--out', join(home, 'runs')],
      env,
    );
    await waitFor(async () => (await proxyState(live.proxy, toxiproxy.url)).toxics.length === 1, {
      what: 'the live run to inject',
    });

    const listed = await gameday(['sweep', '--toxiproxy', toxiproxy.url, '--aws'], env).done;
    expect(listed.code, listed.stderr).toBe(0);
    const orphaned = listed.stdout.split('\n').filter((line) => line.startsWith('orphaned: '));
    expect(orphaned).toHaveLength(4);
    for (const line of orphaned) expect(line).toContain(`run ${orphanId}`);
    expect(
      orphaned.some((line) => line.includes(`toxic gameday.${orphanId}.slow on proxy ${slowed.proxy}`)),
    ).toBe(true);
    expect(orphaned.some((line) => line.includes(`proxy ${cut.proxy} disabled`))).toBe(true);
    expect(orphaned.some((line) => line.includes(`instance ${stopped} stopped`))).toBe(true);
    expect(orphaned.some((line) => line.startsWith('orphaned: FIS experiment'))).toBe(true);
    expect(listed.stdout).toContain(`live, left alone: toxic gameday.${liveId}.slow on proxy ${live.proxy}`);
    expect(listed.stdout).toContain('4 orphaned fault(s); nothing changed');
    // A dry run changes nothing.
    expect((await proxyState(slowed.proxy, toxiproxy.url)).toxics).toContain(`gameday.${orphanId}.slow`);
    expect((await instanceStates([stopped ?? ''], moto.url))[stopped ?? '']).toBe('stopped');

    const applied = await gameday(['sweep', '--toxiproxy', toxiproxy.url, '--aws', '--apply'], env).done;
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout.split('\n').filter((line) => line.startsWith('reverted: '))).toHaveLength(4);

    expect(await proxyState(slowed.proxy, toxiproxy.url)).toEqual({
      enabled: true,
      toxics: ['someone-elses'],
    });
    expect(await proxyState(cut.proxy, toxiproxy.url)).toEqual({ enabled: true, toxics: [] });
    expect(await proxyState(stranger.proxy, toxiproxy.url)).toEqual({ enabled: false, toxics: [] });
    expect(await proxyState(live.proxy, toxiproxy.url)).toEqual({
      enabled: true,
      toxics: [`gameday.${liveId}.slow`],
    });
    expect((await instanceStates([stopped ?? ''], moto.url))[stopped ?? '']).toBe('running');
    const tags = await new EC2Client({ region: REGION, endpoint: moto.url }).send(
      new DescribeInstancesCommand({ InstanceIds: [stopped ?? ''] }),
    );
    expect(tags.Reservations?.[0]?.Instances?.[0]?.Tags?.map((t) => t.Key)).not.toContain(
      'gameday:stopped-by',
    );
    const experiment = (await fisExperiments(moto.url)).find((e) => e.tags?.['gameday:run-id'] === orphanId);
    expect(experiment?.state?.status).toBe('stopped');

    // Nothing left: the next sweep finds nothing of the lost run.
    const again = await gameday(['sweep', '--toxiproxy', toxiproxy.url, '--aws'], env).done;
    expect(again.stdout).toContain('no orphaned gameday faults');

    const aborted = await gameday(['abort', liveId, '--reason', 'test done'], env).done;
    expect(aborted.code, aborted.stderr).toBe(0);
    expect((await liveRun.done).code).toBe(2);
  }, 300_000);
});
