/**
 * The worker killed with SIGKILL while the lab's EC2 phase has an instance stopped and the EC2 API
 * broken: a new worker finishes the phase and the lab ends where it began.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/report/journal';
import { readRun } from '../../src/temporal/run-status';
import { PROJECT_ROOT } from '../../src/tools';
import { gameday, scratchDir, startWorkerProcess, uniqueName, waitFor } from '../helpers';
import { expectLabGone, expectLabRestored, labCliEnv, startLab } from '../lab-helpers';

describe('the lab with its worker killed during the EC2 phase', () => {
  it('ends with no toxic, every proxy enabled and the fleet whole', async () => {
    const lab = await startLab('hardened');
    const env = labCliEnv(lab);
    const out = await scratchDir('lab-crash');
    const runId = uniqueName('lab-crash');
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: lab.endpoints.moto });

    const first = await startWorkerProcess(env);
    const run = gameday(
      ['run', join(PROJECT_ROOT, 'experiments/oct20/ec2-launch-failures.yaml'), '--out', out, '--id', runId],
      env,
    );
    // Mid-phase for real: both faults in place and the watch running (it has heartbeated).
    const client = new Client({ connection: await Connection.connect({ address: lab.endpoints.temporal }) });
    await waitFor(
      async () => {
        const view = await readRun(client, runId);
        return view.state === 'running' && view.status.stage === 'watching' && view.live.length > 0;
      },
      { what: 'the phase to be watched', timeoutMs: 60_000 },
    );
    await client.connection.close();
    const answer = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['stopped'] }] }),
    );
    expect((answer.Reservations ?? []).length).toBe(1);
    const proxies = (await fetch(`${lab.endpoints.toxiproxy}/proxies`).then((r) => r.json())) as Record<
      string,
      { toxics: unknown[] }
    >;
    expect(proxies['ec2-api']?.toxics).toHaveLength(1);

    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    const second = await startWorkerProcess(env);
    const { code, stdout } = await run.done;
    second.child.kill('SIGTERM');
    await second.done;

    await expectLabRestored(lab);
    const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
    // The seconds no worker watched are a gap: checks that saw less than 80% of a 10s phase are
    // not held, so the hardened build is deviated for that alone, never for what it measured.
    expect(journal.reason, stdout).toMatch(/^too few samples to hold: /);
    expect(code, stdout).toBe(1);
    expect(journal.faults.map((f) => f.status)).toEqual(['reverted', 'reverted']);
    expect(journal.phases[0]?.watch?.attempts).toBe(2);
    await expectLabGone(lab);
  }, 240_000);
});
