/**
 * The multi-region build against the real lab, through October 20's DNS void: the run empties
 * us-east-1's DynamoDB record, the instances fail over to us-west-2 (its own name, in a zone the
 * void leaves alone) and back after the revert. The continuity plan measures the failover as RTO,
 * and the writes us-east-1 acknowledged but had not yet replicated when it was lost as RPO: lost
 * with a 3s replication lag, none with no lag (the same lab, its lag set between the two runs).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type LabInfo, labDown, labUp, setReplicationLag } from '../../src/lab/lab';
import { acknowledgedWrites } from '../../src/report/continuity';
import { Journal } from '../../src/report/journal';
import { gameday, scratchDir, uniqueName } from '../helpers';
import { labCliEnv, ORDERS_STEADY_STATE } from '../lab-helpers';
import { PATIENCE_MS } from '../patience';

const RTO_MS = 5_000;

const experiment = (name: string) => `version: 1
name: ${name}
description: us-east-1's DynamoDB name void for 12s; the multi-region build fails over to us-west-2.
target: { environment: local }
settings:
  aws: { region: us-east-1, endpoint: "\${{ env.AWS_ENDPOINT_URL }}" }
  rollbackTimeout: 1m
${ORDERS_STEADY_STATE}
phases:
  - name: dns-void
    duration: 12s
    faults:
      - name: dynamodb-name-void
        route53:
          zoneName: dynamodb.us-east-1.amazonaws.com
          privateZone: true
          name: dynamodb.us-east-1.amazonaws.com
          type: A
          waitFor: 30s
    expect:
      - { probe: orders-read, every: 100ms, expect: { status: [200], errorRate: 0.05 } }
      - { probe: orders-write, every: 100ms, expect: { status: [201], errorRate: 0.05 } }
recovery: { within: 30s }
continuity:
  services:
    - name: orders
      rto: ${RTO_MS / 1_000}s
      rpo: 0s
      slo: [orders-read, orders-write]
      writeProbe: orders-write
      readBack:
        http: { url: "\${{ env.GAMEDAY_LAB_ORDERS }}/orders/{id}", timeout: 2s }
`;

interface RegionStatus {
  name: string;
  acknowledged: number;
  replicated: number;
  lost: number;
  pending: number;
}

async function replicationOf(lab: LabInfo): Promise<RegionStatus[]> {
  const status = (await fetch(`${lab.endpoints.admin}/lab/status`).then((r) => r.json())) as {
    replication: { regions: RegionStatus[] };
  };
  return status.replication.regions;
}

async function voidRun(lab: LabInfo, dir: string) {
  const file = join(dir, `${uniqueName('void')}.yaml`);
  const runId = uniqueName('multi-region');
  await writeFile(file, experiment(runId));
  const before = await replicationOf(lab);
  const result = await gameday(['run', '--local', file, '--out', dir, '--id', runId], labCliEnv(lab)).done;
  const journal = Journal.parse(JSON.parse(await readFile(join(dir, runId, 'journal.json'), 'utf8')));
  const after = await replicationOf(lab);
  const [orders] = journal.continuity?.services ?? [];
  if (!orders?.rpo)
    throw new Error(
      `no RPO measured: ${result.stdout}${result.stderr}${JSON.stringify(journal.steadyStateBefore?.probes.map((p) => [p.probe, p.checks, p.summary.errors]))}`,
    );
  const delta = (region: string, field: keyof RegionStatus) =>
    Number(after.find((r) => r.name === region)?.[field]) -
    Number(before.find((r) => r.name === region)?.[field]);
  return { result, journal, orders, rpo: orders.rpo, delta };
}

describe('the multi-region build in the lab', () => {
  it('fails over through the DNS void within its RTO; replication lag shows as lost writes, no lag as next to none', async () => {
    const home = await scratchDir('lab-multi-region');
    const lab = await labUp({ home, build: 'multi-region', replicationLagMs: 3_000, timeoutMs: PATIENCE_MS });
    onTestFinished(async () => {
      await labDown({ home });
    });
    const dir = await scratchDir('multi-region');

    // A 3s lag: what us-east-1 acknowledged in the 3s before it was lost never reaches us-west-2.
    const lagged = await voidRun(lab, dir);
    const fault = lagged.journal.faults[0];
    expect(fault).toMatchObject({ status: 'reverted' });
    // The build failed over: writes were taken in us-west-2 during the void, and replicated back.
    expect(lagged.delta('us-west-2', 'acknowledged')).toBeGreaterThan(10);
    expect(lagged.delta('us-west-2', 'replicated')).toBe(lagged.delta('us-west-2', 'acknowledged'));
    // RTO: the failover kept the service within its SLO but for at most RTO_MS at a time.
    const { rto } = lagged.orders;
    expect(rto.held, JSON.stringify(rto)).toBe(true);
    expect(rto.longestBelowSlo?.ms ?? 0).toBeLessThanOrEqual(RTO_MS);
    expect(rto.recoveryMs).not.toBeNull();
    // RPO: writes lost, all acknowledged before the region was lost, as many as the lab rolled back.
    const { rpo } = lagged;
    const { count, writes } = acknowledgedWrites(lagged.journal, 'orders-write');
    expect(rpo.checked).toBe(writes.length);
    expect(rpo.unverified).toBe(0);
    expect(rpo.lost).toBeGreaterThan(0);
    expect(rpo.lost).toBeLessThanOrEqual(lagged.delta('us-east-1', 'lost'));
    for (const write of rpo.lostWrites) expect(write.at).toBeLessThan((fault?.injectedAt ?? 0) + 3_000);
    expect(rpo.lostSpan?.ms).toBeLessThanOrEqual(3_000);
    expect(rpo.held).toBe(false);
    expect(lagged.journal.verdict).toBe('deviated');
    expect(lagged.journal.reason).toContain('continuity plan missed: orders RPO');
    expect(count).toBeGreaterThan(rpo.lost);
    // The lost writes are in neither region; a kept one is in both.
    const region = (url: string) =>
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint: url,
        credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
      });
    const stores = [region(lab.endpoints.dynamodb), region(lab.secondRegion?.dynamodb ?? '')];
    const has = (store: DynamoDBClient, id: string) =>
      store
        .send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: id } } }))
        .then((a) => a.Item !== undefined);
    for (const write of rpo.lostWrites.slice(0, 5))
      for (const store of stores) expect(await has(store, write.id), write.id).toBe(false);
    const lost = new Set(rpo.lostWrites.map((w) => w.id));
    const kept = writes.filter((w) => !lost.has(w.id)).at(-1);
    for (const store of stores) expect(await has(store, kept?.id ?? ''), kept?.id).toBe(true);

    // No lag is still asynchronous: a write acknowledged as the region goes can be lost (its copy
    // in flight, or taken by an instance whose cached answer still named us-east-1). Far fewer
    // than with the lag, and only from the void's first seconds (the name's TTL is 2s).
    await setReplicationLag(lab, 0);
    const instant = await voidRun(lab, dir);
    expect(instant.delta('us-west-2', 'acknowledged')).toBeGreaterThan(10);
    expect(instant.orders.rto.held, JSON.stringify(instant.orders.rto)).toBe(true);
    expect(instant.rpo.unverified).toBe(0);
    expect(instant.rpo.checked).toBeGreaterThan(0);
    expect(instant.rpo.lost).toBeLessThan(Math.max(2, rpo.lost / 3));
    const instantFault = instant.journal.faults[0];
    for (const write of instant.rpo.lostWrites)
      expect(write.at).toBeLessThan((instantFault?.injectedAt ?? 0) + 3_000);
  });
});
