/**
 * The worker killed with SIGKILL while the lab's EC2 phase has an instance stopped and launches
 * failing (FIS's InsufficientInstanceCapacity): the other worker, already polling, finishes the phase and the lab ends where it began.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { FisClient, ListExperimentsCommand } from '@aws-sdk/client-fis';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/report/journal';
import { readRun } from '../../src/temporal/run-status';
import { PROJECT_ROOT } from '../../src/tools';
import { gameday, scratchDir, startWorkerProcess, uniqueName, waitFor } from '../helpers';
import { labCliEnv, restoredState, settledLabState, startLab, takeLabDown } from '../lab-helpers';

describe('the lab with its worker killed during the EC2 phase', () => {
  it('ends with no toxic, every proxy enabled and the fleet whole', async () => {
    const lab = await startLab('hardened');
    const env = labCliEnv(lab);
    const out = await scratchDir('lab-crash');
    const runId = uniqueName('lab-crash');
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: lab.endpoints.moto });

    // Two workers poll before the run starts, as in production. With only one, the replacement
    // started after the kill came up (bundling, on a busy machine) after the 10s phase had ended:
    // the watch resumed past the phase's end with none of the first attempt's samples, and both
    // expectations failed on zero samples ("deviated").
    const workers = [await startWorkerProcess(env), await startWorkerProcess(env)];
    // The phase three times as long (30s): the ~3s nobody watches after the kill stays well under
    // the share of its samples a check may miss and still hold.
    const file = join(out, 'ec2-launch-failures.yaml');
    const source = await readFile(join(PROJECT_ROOT, 'experiments/oct20/ec2-launch-failures.yaml'), 'utf8');
    await writeFile(file, `${source}timeScale: 3\n`);
    const run = gameday(['run', file, '--out', out, '--id', runId], env);
    // Mid-phase for real: both faults in place and the watch running (it has heartbeated).
    const client = new Client({ connection: await Connection.connect({ address: lab.endpoints.temporal }) });
    await waitFor(
      async () => {
        const view = await readRun(client, runId);
        return view.state === 'running' && view.status.stage === 'watching' && view.live.length > 0;
      },
      { what: () => `the phase to be watched; the run printed: ${run.output().slice(-1_000)}` },
    );
    const { raw } = await client.workflow.getHandle(runId).describe();
    await client.connection.close();
    const watching = raw.pendingActivities?.find((a) => a.activityType?.name === 'watchPhase');
    const first = workers.find((w) => watching?.lastWorkerIdentity?.startsWith(`${w.child.pid}@`));
    if (!first) throw new Error(`the watch runs on ${watching?.lastWorkerIdentity}, not on a test worker`);
    const second = workers.find((w) => w !== first) as (typeof workers)[number];
    const answer = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['stopped'] }] }),
    );
    expect((answer.Reservations ?? []).length).toBe(1);
    // The launch failures: FIS's experiment, running as the lab's AWS front reports it.
    const fis = new FisClient({ region: 'us-east-1', endpoint: lab.endpoints.aws });
    const experiments = (await fis.send(new ListExperimentsCommand({}))).experiments ?? [];
    expect(
      experiments.filter((e) => e.state?.status === 'running').map((e) => e.tags?.['gameday:fault']),
    ).toEqual(['ec2-launches-fail']);

    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const { code, stdout } = await run.done;
    second.child.kill('SIGTERM');
    await second.done;

    expect(code, stdout).toBe(0);
    const after = await settledLabState(lab);
    expect(after).toEqual(restoredState(lab, after.running));
    expect(after.running).toHaveLength(lab.size);
    const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
    expect(journal.faults.map((f) => f.status)).toEqual(['reverted', 'reverted']);
    expect(journal.phases[0]?.watch?.attempts).toBe(2);
    const down = await takeLabDown(lab);
    expect(down.processes.length).toBeGreaterThanOrEqual(4 + lab.size);
    expect(down.left).toEqual([]);
  });
});
