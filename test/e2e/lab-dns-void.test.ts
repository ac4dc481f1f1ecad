/**
 * experiments/oct20/dynamodb-dns-void.yaml against each build of the lab: the run empties DynamoDB's
 * record in the lab's hosted zone, and the lab's DNS server answers NODATA for the name until the
 * revert. The fragile build, which honours the TTL and keeps nothing stale, fails its reads; the
 * hardened build's DNS cache serves the last good answer, so its reads and writes still reach
 * DynamoDB (no stale read, no queued write), which its other lessons would otherwise hide.
 */
import { Resolver } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BuildName } from '../../src/lab/builds';
import type { Journal } from '../../src/report/journal';
import { PROJECT_ROOT } from '../../src/tools';
import { gameday, pollUntilStopped, scratchDir, uniqueName } from '../helpers';
import { labCliEnv, startLab, takeLabDown } from '../lab-helpers';

interface Look {
  at: number;
  /** What the lab's DNS server answers for DynamoDB's name: its address, or the error code. */
  dns: string;
  /** A read through the load balancer: its status, and whether it was served stale. */
  read: number;
  stale: boolean;
}

async function voidAgainst(build: BuildName) {
  const lab = await startLab(build);
  const resolver = new Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers([lab.endpoints.dns]);
  const looks = pollUntilStopped(100, async (): Promise<Look> => {
    const [dns, read] = await Promise.all([
      resolver.resolve4(lab.dnsZone.dynamodb).then(
        (addresses) => addresses.join(','),
        (error: NodeJS.ErrnoException) => error.code ?? 'error',
      ),
      fetch(`${lab.endpoints.orders}/orders/seed-1`, { signal: AbortSignal.timeout(2_000) }),
    ]);
    return { at: Date.now(), dns, read: read.status, stale: read.headers.get('x-stale') === 'true' };
  });
  const out = await scratchDir(`dns-void-${build}`);
  const runId = uniqueName(`dns-void-${build}`);
  const file = join(PROJECT_ROOT, 'experiments/oct20/dynamodb-dns-void.yaml');
  let run: Awaited<ReturnType<typeof gameday>['done']>;
  try {
    run = await gameday(['run', '--local', file, '--out', out, '--id', runId], labCliEnv(lab)).done;
  } finally {
    await looks.stop();
  }
  const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
  const fault = journal.faults[0];
  // Inside the void, less a second either side for the change to reach the DNS server's copy of
  // the zone (read every 250ms) and for looks stamped across it.
  const during = looks.seen.filter(
    (l) => l.at > (fault?.injectedAt ?? 0) + 1_000 && l.at < (fault?.revertedAt ?? 0) - 1_000,
  );
  const after = looks.seen.filter((l) => l.at > (fault?.revertedAt ?? Number.POSITIVE_INFINITY) + 1_000);
  const writes = journal.phases[0]?.watch?.expectations.find((e) => e.probe === 'orders-write');
  const down = await takeLabDown(lab);
  return { run, journal, fault, during, after, writes, down };
}

describe('the DynamoDB DNS void in the lab', () => {
  it('the fragile build honours the TTL and then fails its reads while the name is void', async () => {
    const { run, journal, fault, during, after, down } = await voidAgainst('fragile');
    expect(journal.verdict, run.stdout).toBe('deviated');
    expect(run.code).toBe(1);
    expect(fault).toMatchObject({ status: 'reverted', alreadyGone: false });
    expect(during.length).toBeGreaterThan(10);
    expect(new Set(during.map((l) => l.dns))).toEqual(new Set(['ENODATA']));
    // Past the first TTL (2s) of the void every read fails: nothing stale is served.
    const late = during.filter((l) => l.at > (fault?.injectedAt ?? 0) + 3_000);
    expect(late.length).toBeGreaterThan(5);
    expect(late.filter((l) => l.read === 200)).toEqual([]);
    expect(after.map((l) => l.dns)).toContain('127.0.0.1');
    expect(down.left).toEqual([]);
  });

  it('the hardened build serves the last good answer: reads and writes reach DynamoDB through the void', async () => {
    const { run, journal, fault, during, after, writes, down } = await voidAgainst('hardened');
    expect(journal.verdict, run.stdout).toBe('passed');
    expect(run.code).toBe(0);
    expect(fault).toMatchObject({ status: 'reverted', alreadyGone: false });
    expect(during.length).toBeGreaterThan(10);
    expect(new Set(during.map((l) => l.dns))).toEqual(new Set(['ENODATA']));
    // Answered by DynamoDB, not from the orders cache: the name still led somewhere.
    expect(during.filter((l) => l.read !== 200 || l.stale)).toEqual([]);
    // Written, not queued (202 is a write DynamoDB did not take).
    expect(writes?.checks.find((c) => c.measure === 'status')?.measured).toEqual([201]);
    expect(after.map((l) => l.dns)).toContain('127.0.0.1');
    expect(down.left).toEqual([]);
  });
});
