/**
 * The continuity plan against the real lab: every write the write probe got acknowledged is read
 * back after recovery, and the writes an instance took down with it are found lost and counted in
 * the RPO. The hardened build queues writes (202) while DynamoDB is gone; an instance stopped then
 * (through the EC2 API, as a scale-in or a person would) cannot flush its queue before it goes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EC2Client, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { acknowledgedWrites } from '../../src/report/continuity';
import { Journal } from '../../src/report/journal';
import { gameday, scratchDir, uniqueName, waitFor } from '../helpers';
import { labCliEnv, ORDERS_STEADY_STATE, startLab } from '../lab-helpers';

const experiment = (name: string) => `version: 1
name: ${name}
description: DynamoDB gone for 15s while an instance holding queued writes is stopped.
target: { environment: local }
settings:
  toxiproxy: { url: "\${{ env.TOXIPROXY_URL }}" }
  rollbackTimeout: 1m
${ORDERS_STEADY_STATE}
phases:
  - name: store-gone
    duration: 15s
    faults:
      - name: store-gone
        toxiproxy: { proxy: dynamodb, down: true }
    expect:
      - { probe: orders-write, every: 100ms, expect: { status: [201, 202], errorRate: 0.05 } }
recovery: { within: 30s }
continuity:
  services:
    - name: orders
      rto: 30s
      rpo: 0s
      slo: [orders-read, orders-write]
      writeProbe: orders-write
      readBack:
        http: { url: "\${{ env.GAMEDAY_LAB_ORDERS }}/orders/{id}", timeout: 2s }
`;

describe('the continuity plan in the lab', () => {
  it('reads back every acknowledged write, and counts those a stopped instance held in its queue as lost', async () => {
    const lab = await startLab('hardened');
    const env = labCliEnv(lab);
    const dir = await scratchDir('continuity');
    const file = join(dir, 'lost-writes.yaml');
    await writeFile(file, experiment(uniqueName('lost-writes')));
    const runId = uniqueName('lost-writes');
    const run = gameday(['run', '--local', file, '--out', dir, '--id', runId], env);

    // DynamoDB is gone: the hardened build now acknowledges writes with 202 and queues them.
    await waitFor(
      async () => {
        const proxies = (await fetch(`${lab.endpoints.toxiproxy}/proxies`).then((r) => r.json())) as Record<
          string,
          { enabled: boolean }
        >;
        return proxies.dynamodb?.enabled === false;
      },
      { what: 'the run to take DynamoDB away', intervalMs: 50 },
    );
    const goneAt = Date.now();
    // An instance that holds queued writes: it answered 202 to five of ours, and DynamoDB has been
    // gone for 2s, time enough for the write probe's own writes (ten a second over four instances,
    // later on a busy machine) to be queued there too.
    const queued = new Map<string, number>();
    const victim = await waitFor(
      async () => {
        const answer = await fetch(`${lab.endpoints.orders}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"item":"test","quantity":1}',
        });
        const instance = answer.headers.get('x-instance');
        await answer.arrayBuffer();
        if (answer.status !== 202 || !instance) return null;
        queued.set(instance, (queued.get(instance) ?? 0) + 1);
        return (queued.get(instance) ?? 0) >= 5 && Date.now() - goneAt >= 2_000 ? instance : null;
      },
      { what: 'an instance to queue five writes', intervalMs: 50 },
    );
    const ec2 = new EC2Client({
      region: 'us-east-1',
      endpoint: lab.endpoints.moto,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await ec2.send(new StopInstancesCommand({ InstanceIds: [victim] }));

    const result = await run.done;
    const journal = Journal.parse(JSON.parse(await readFile(join(dir, runId, 'journal.json'), 'utf8')));
    const [orders] = journal.continuity?.services ?? [];
    const rpo = orders?.rpo;
    if (!rpo) throw new Error(`no RPO measured: ${result.stdout}${result.stderr}`);

    // Every acknowledged write was read back: the journal kept them all (far below its cap).
    const { count, writes } = acknowledgedWrites(journal, 'orders-write');
    expect(rpo.acknowledged).toBe(count);
    expect(writes).toHaveLength(count);
    expect(rpo.checked).toBe(count);
    expect(rpo.unverified).toBe(0);
    // Lost: writes the stopped instance acknowledged and never wrote, and only those.
    expect(rpo.lost).toBeGreaterThan(0);
    expect(rpo.lostWrites.map((w) => w.id.startsWith(`${victim}-`))).toEqual(rpo.lostWrites.map(() => true));
    expect(rpo.lostSpan?.ms).toBe((rpo.lostWrites.at(-1)?.at ?? 0) - (rpo.lostWrites[0]?.at ?? 0));
    expect(rpo.held).toBe(false);
    // The service itself says so: a lost write is not there, a kept one is.
    const read = (id: string) =>
      fetch(`${lab.endpoints.orders}/orders/${encodeURIComponent(id)}`).then(async (r) => {
        await r.arrayBuffer();
        return r.status;
      });
    for (const write of rpo.lostWrites) expect(await read(write.id), write.id).toBe(404);
    const lost = new Set(rpo.lostWrites.map((w) => w.id));
    const kept = writes.filter((w) => !lost.has(w.id));
    expect(kept.length).toBe(count - rpo.lost);
    for (const write of kept.slice(-20)) expect(await read(write.id), write.id).toBe(200);

    expect(journal.verdict).toBe('deviated');
    expect(journal.reason).toContain('continuity plan missed: orders RPO');
    expect(result.code).toBe(1);
    expect(orders?.rto.recoveryMs).not.toBeNull();
  });
});
