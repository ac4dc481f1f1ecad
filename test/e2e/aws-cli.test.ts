/**
 * The AWS side of the CLI as a user runs it against moto: refusals that change nothing, `gameday
 * plan` resolving targets for real, the experiments/aws files end to end, and a worker killed with
 * SIGKILL between stopping instances and starting them again.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseDocument } from 'yaml';
import type { Journal } from '../../src/report/journal';
import { PROJECT_ROOT } from '../../src/tools';
import {
  awsSettings,
  fisExperiments,
  fisTemplates,
  instanceStates,
  launchInstances,
  MOTO_ACCOUNT,
  motoUrl,
  REGION,
} from '../aws-helpers';
import {
  cliEnv,
  gameday,
  scratchDir,
  startWorkerProcess,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';
import { dynamodbZone, zoneRecords } from '../route53-helpers';

const AWS_DIR = join(PROJECT_ROOT, 'experiments/aws');

function awsEnv(queue: string): Record<string, string> {
  return {
    ...cliEnv(queue),
    AWS_ENDPOINT_URL: motoUrl(),
    AWS_REGION: REGION,
    ORDERS_URL: 'https://orders.example.com',
  };
}

async function healthServer(): Promise<string> {
  const server = createServer((_request, response) => response.writeHead(200).end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/health`;
}

/**
 * An experiments/aws file made ready for a rehearsal against moto: the health probe pointed at a
 * local server, sampling and phases shortened. Its FIS templates and safety settings stay as written.
 */
async function rehearsal(file: string, healthUrl: string, dir: string): Promise<string> {
  const doc = parseDocument(await readFile(join(AWS_DIR, file), 'utf8'));
  // Every phase 50 minutes at a thousandth of real time: 3 seconds each, of which an FIS inject
  // (start, wait until running) can take more than a second on a busy machine.
  doc.set('timeScale', 0.001);
  doc.setIn(['recovery', 'within'], '10s');
  for (const [i, probe] of (doc.toJS().steadyState as { name: string; ec2Fleet?: unknown }[]).entries()) {
    // A fleet is a DescribeInstances on moto, slower than the health server under load: sampled
    // every 50ms it would miss the samples a phase needs to hold.
    const every = probe.ec2Fleet ? '250ms' : '50ms';
    doc.setIn(['steadyState', i, 'sample'], doc.createNode({ every, count: 3 }));
    if (probe.name === 'orders-healthy') doc.setIn(['steadyState', i, 'http', 'url'], healthUrl);
  }
  doc.setIn(['guardrails', 0, 'every'], '100ms');
  for (const i of (doc.toJS().phases as unknown[]).keys()) doc.setIn(['phases', i, 'duration'], '50m');
  const out = join(dir, file);
  await writeFile(out, doc.toString());
  return out;
}

describe('AWS experiments from the CLI', () => {
  it('refuse with exit 64 when the account is not allowed, naming both, and change nothing', async () => {
    const fleet = uniqueName('fleet');
    const ids = await launchInstances(4, { app: fleet });
    const file = await writeExperiment({
      version: 1,
      name: uniqueName('wrong-account'),
      description: 'Aimed at another account.',
      target: { environment: 'staging', accounts: ['999988887777'] },
      settings: { aws: awsSettings() },
      steadyState: [{ name: 'fleet', ec2Fleet: { tags: { app: fleet } }, expect: { min: 4 } }],
      phases: [
        {
          name: 'p',
          duration: '1s',
          faults: [{ name: 'stop', awsEc2: { action: 'stop', tags: { app: fleet }, selection: 'COUNT(1)' } }],
        },
      ],
    });
    const before = (await fisExperiments()).length;

    const plan = await gameday(['plan', file], awsEnv(uniqueName('q'))).done;
    expect(plan.code).toBe(64);
    expect(plan.stderr).toContain(`account ${MOTO_ACCOUNT}`);
    expect(plan.stderr).toContain('not in target.accounts (999988887777)');

    const run = await gameday(
      ['run', '--local', file, '--out', await scratchDir('out')],
      awsEnv(uniqueName('q')),
    ).done;
    expect(run.code).toBe(64);
    expect(run.stdout).toContain(`the AWS credentials belong to account ${MOTO_ACCOUNT}`);
    expect(Object.values(await instanceStates(ids))).toEqual(Array(4).fill('running'));
    expect((await fisExperiments()).length).toBe(before);
  });

  it('refuse unsafe files before anything runs: terminate without irreversible, past the blast radius', async () => {
    const { code, stderr } = await gameday(['validate', 'test/fixtures/invalid/aws-unsafe.yaml']).done;
    expect(code).toBe(64);
    expect(stderr).toContain('awsEc2.action  terminate cannot be undone: set irreversible: true');
    expect(stderr).toContain('awsEc2.selection  PERCENT(30) is above target.maxBlastRadius (25%)');
    expect(stderr).toContain('awsEc2  name the instances with instanceIds, tags or filters');
    expect(stderr).toContain('faults[3].awsEc2  name the instances');
    expect(stderr).toContain('actions.kill.actionId  aws:ec2:terminate-instances cannot be undone');
    expect(stderr).toContain('experimentOptions.accountTargeting  multi-account templates act in accounts');
  });

  it('plan experiments/aws/*.yaml against moto: the account, the FIS actions, the instances they match', async () => {
    const ids = await launchInstances(3, { app: 'orders' });
    await dynamodbZone();
    const files = (await readdir(AWS_DIR)).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toHaveLength(6);
    for (const file of files) {
      const { code, stdout, stderr } = await gameday(['plan', join(AWS_DIR, file)], awsEnv(uniqueName('q')))
        .done;
      expect(code, stderr).toBe(0);
      expect(stdout).toContain(
        `account ${MOTO_ACCOUNT} as arn:aws:sts::${MOTO_ACCOUNT}:user/moto (allowed: ${MOTO_ACCOUNT})`,
      );
      expect(stdout).toMatch(/action [a-z0-9-]+: aws:/);
    }
    const launch = await gameday(['plan', join(AWS_DIR, 'ec2-launch-failures.yaml')], awsEnv(uniqueName('q')))
      .done;
    expect(launch.stdout).toContain('action stop-30-percent: aws:ec2:stop-instances');
    expect(launch.stdout).toContain(
      'action insufficient-capacity: aws:ec2:api-insufficient-instance-capacity-error',
    );
    for (const id of ids) expect(launch.stdout).toContain(id);
    const throttle = await gameday(
      ['plan', join(AWS_DIR, 'throttled-recovery.yaml')],
      awsEnv(uniqueName('q')),
    ).done;
    expect(throttle.stdout).toContain(
      'action throttle-50: aws:fis:inject-api-throttle-error after throttle-100',
    );
  });

  it('run every experiments/aws file end to end against moto, stopping each FIS experiment after', async () => {
    await launchInstances(4, { app: 'orders' });
    const zone = await dynamodbZone();
    const records = await zoneRecords(zone.id);
    const health = await healthServer();
    const dir = await scratchDir('aws-files');
    const out = await scratchDir('out');
    const files = (await readdir(AWS_DIR)).filter((f) => f.endsWith('.yaml')).sort();
    for (const file of files) {
      const runId = uniqueName(file.replace('.yaml', ''));
      const { code, stdout } = await gameday(
        ['run', '--local', await rehearsal(file, health, dir), '--out', out, '--id', runId],
        awsEnv(uniqueName('q')),
      ).done;
      expect(code, `${file}: ${stdout}`).toBe(0);
      const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
      const phases = journal.phases.length;
      expect(journal.faults).toHaveLength(phases);
      const fisFaults = journal.faults.filter((f) => f.handle.provider === 'awsFis').length;
      const experiments = (await fisExperiments()).filter((e) => e.tags?.['gameday:run-id'] === runId);
      expect(experiments).toHaveLength(fisFaults);
      for (const experiment of experiments)
        expect(['stopped', 'completed']).toContain(experiment.state?.status);
      expect((await fisTemplates()).filter((t) => t.tags?.['gameday:run-id'] === runId)).toEqual([]);
    }
    // The DNS void's record is back as it was, its mark gone.
    expect(await zoneRecords(zone.id)).toEqual(records);
  });
});

describe('runs that would touch the same targets', () => {
  it('cannot run at once: the second exits 75 naming the first, having touched nothing', async () => {
    const fleet = uniqueName('fleet');
    const [shared, other] = await launchInstances(2, { app: fleet });
    const stopping = (name: string, instanceIds: string[]) =>
      writeExperiment({
        version: 1,
        name: uniqueName(name),
        description: 'Stops named instances.',
        target: { environment: 'local', maxBlastRadius: 100 },
        settings: { aws: awsSettings() },
        steadyState: [
          { name: 'fleet', ec2Fleet: { tags: { app: fleet } }, sample: { every: '50ms', count: 1 } },
        ],
        phases: [
          { name: 'p', duration: '1m', faults: [{ name: 'stop', awsEc2: { action: 'stop', instanceIds } }] },
        ],
      });
    const env = awsEnv(uniqueName('q'));
    const firstId = uniqueName('first');
    const first = gameday(
      [
        'run',
        '--local',
        await stopping('first', [shared ?? '']),
        '--id',
        firstId,
        '--out',
        await scratchDir('out'),
      ],
      env,
    );
    await waitFor(async () => (await instanceStates([shared ?? '']))[shared ?? ''] === 'stopped', {
      what: 'the first run to stop its instance',
    });

    const second = await gameday(
      [
        'run',
        '--local',
        await stopping('second', [shared ?? '', other ?? '']),
        '--out',
        await scratchDir('out'),
      ],
      env,
    ).done;
    expect(second.code).toBe(75);
    expect(second.stderr).toContain(`its target ec2/${REGION}/${shared} is locked by run ${firstId}`);
    expect((await instanceStates([other ?? '']))[other ?? '']).toBe('running');

    await gameday(['abort', firstId, '--reason', 'done'], env).done;
    expect((await first.done).code).toBe(2);
    expect(Object.values(await instanceStates([shared ?? '', other ?? '']))).toEqual(['running', 'running']);
  });
});

describe('a worker killed with SIGKILL between stopping instances and starting them', () => {
  it('leaves every chosen instance running in the end', async () => {
    const fleet = uniqueName('fleet');
    const ids = await launchInstances(6, { app: fleet });
    const file = await writeExperiment({
      version: 1,
      name: uniqueName('ec2-crash'),
      description: 'Half the fleet is stopped while the worker dies.',
      target: { environment: 'local', accounts: [MOTO_ACCOUNT] },
      settings: { aws: awsSettings() },
      steadyState: [
        {
          name: 'fleet',
          ec2Fleet: { tags: { app: fleet } },
          sample: { every: '50ms', count: 2 },
          expect: { min: 6 },
        },
      ],
      phases: [
        {
          name: 'lose-half',
          duration: '6s',
          faults: [
            { name: 'stop-half', awsEc2: { action: 'stop', tags: { app: fleet }, selection: 'PERCENT(50)' } },
          ],
        },
      ],
      recovery: { within: '20s' },
    });
    const env = awsEnv(uniqueName('crash'));
    const out = await scratchDir('out');
    const runId = uniqueName('ec2-crash');

    const first = await startWorkerProcess(env);
    const run = gameday(['run', file, '--out', out, '--id', runId], env);
    const stopped = await waitFor(
      async () => {
        const states = await instanceStates(ids);
        const down = ids.filter((id) => states[id] === 'stopped');
        return down.length === 3 ? down : null;
      },
      { what: 'three instances to stop' },
    );
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const afterKill = await instanceStates(ids);
    expect(stopped.every((id) => afterKill[id] === 'stopped')).toBe(true);

    const second = await startWorkerProcess(env);
    const { code, stdout } = await run.done;
    second.child.kill('SIGTERM');
    await second.done;

    expect(code, stdout).toBe(0);
    expect(Object.values(await instanceStates(ids))).toEqual(Array(6).fill('running'));
    const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
    expect(journal.faults[0]).toMatchObject({ status: 'reverted', alreadyGone: false });
  });
});
