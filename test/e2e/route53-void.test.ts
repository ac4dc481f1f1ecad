/**
 * The `route53` fault against moto's Route 53 and the lab's DNS server, as a user runs it: a run
 * empties a record and a resolver asking the DNS server sees NXDOMAIN in between and the answer
 * after; a worker SIGKILLed while the name is void leaves it restored by the other; and a void
 * whose run Temporal never knew (its history lost) is restored by `gameday sweep --aws --apply`.
 * The sweep reads every hosted zone on its moto, so this file has a moto of its own.
 */

import { Resolver } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { type LabDnsServer, startLabDns } from '../../src/lab/dns-server';
import { type MotoServer, startMoto } from '../../src/lab/moto-server';
import { freePort } from '../../src/lab/ports';
import { awsLocator } from '../../src/providers/aws-location';
import { route53Fault } from '../../src/providers/faults/route53';
import type { Journal } from '../../src/report/journal';
import { readRun } from '../../src/temporal/run-status';
import { REGION } from '../aws-helpers';
import {
  cliEnv,
  experimentFor,
  gameday,
  pollUntilStopped,
  scratchDir,
  startTarget,
  startWorkerProcess,
  temporalAddress,
  testClient,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';
import { PATIENCE_MS } from '../patience';
import { createZone, deleteZone, zoneRecords } from '../route53-helpers';

let moto: MotoServer | undefined;
beforeAll(async () => {
  moto = await startMoto(await freePort(), PATIENCE_MS);
});
afterAll(async () => {
  await moto?.stop();
});
const motoUrl = () => {
  if (!moto) throw new Error('this file starts its moto in beforeAll');
  return moto.url;
};

/** A private zone with one A record, and the lab's DNS server answering from it. */
async function voidableName() {
  const zoneName = `${uniqueName('void')}.gameday.internal`;
  const name = `db.${zoneName}`;
  const zone = await createZone(zoneName, { private: true, endpoint: motoUrl() });
  onTestFinished(() => deleteZone(zone.id, motoUrl()));
  await zone.put({ Name: name, Type: 'A', TTL: 1, ResourceRecords: [{ Value: '127.0.0.1' }] });
  const dns: LabDnsServer = await startLabDns({ endpoint: motoUrl(), hostedZoneId: zone.id, zoneName });
  onTestFinished(() => dns.stop());
  const resolver = new Resolver({ timeout: 1_000, tries: 1 });
  resolver.setServers([dns.address]);
  /** What a resolver asking the DNS server gets: the addresses, or the error code. */
  const ask = () =>
    resolver.resolve4(name).then(
      (addresses) => addresses.join(','),
      (error: NodeJS.ErrnoException) => error.code ?? 'error',
    );
  const records = async () => (await zoneRecords(zone.id, motoUrl())).map((s) => `${s.Name} ${s.Type}`);
  return { zoneName, name, zone, dns, ask, records };
}

function experimentWith(
  target: Awaited<ReturnType<typeof startTarget>>,
  zoneName: string,
  name: string,
  duration: string,
) {
  return experimentFor(target, {
    settings: { toxiproxy: { url: inject('toxiproxyUrl') }, aws: { region: REGION, endpoint: motoUrl() } },
    phases: [
      {
        name: 'void',
        duration,
        faults: [
          { name: 'name-void', route53: { zoneName, privateZone: true, name, type: 'A', waitFor: '30s' } },
        ],
      },
    ],
  });
}

describe('the route53 fault', () => {
  it('empties a record for the phase: the DNS server answers NXDOMAIN in between, the address after', async () => {
    const { zoneName, name, ask, records } = await voidableName();
    const before = await records();
    expect(await ask()).toBe('127.0.0.1');
    const target = await startTarget();
    onTestFinished(() => target.stop());
    const env = cliEnv(uniqueName('route53'));
    const worker = await startWorkerProcess(env);
    onTestFinished(async () => {
      worker.child.kill('SIGTERM');
      await worker.done;
    });
    const out = await scratchDir('route53');
    const runId = uniqueName('route53');
    const asked = pollUntilStopped(50, async () => ({ at: Date.now(), answer: await ask() }));
    const file = await writeExperiment(experimentWith(target, zoneName, name, '5s'));
    const { code, stdout } = await gameday(['run', file, '--out', out, '--id', runId], env).done;
    // Answers after the revert, from the DNS server itself (no cache between).
    await waitFor(async () => (await ask()) === '127.0.0.1', { what: 'the name to answer again' });
    await asked.stop();

    expect(code, stdout).toBe(0);
    const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
    const [fault] = journal.faults;
    expect(fault).toMatchObject({ status: 'reverted', alreadyGone: false });
    const injectedAt = fault?.injectedAt ?? Number.NaN;
    const revertedAt = fault?.revertedAt ?? Number.NaN;
    // The DNS server reads the zone every 250ms: a second either side for the change to reach it.
    const during = asked.seen.filter((o) => o.at > injectedAt + 1_000 && o.at < revertedAt - 1_000);
    expect(during.length).toBeGreaterThan(5);
    expect(new Set(during.map((o) => o.answer))).toEqual(new Set(['ENOTFOUND']));
    expect(asked.seen.filter((o) => o.at < injectedAt).map((o) => o.answer)).not.toContain('ENOTFOUND');
    // The zone as it was: the record back, the mark gone.
    expect(await records()).toEqual(before);
  });

  it('plan says what it will empty; a record that does not exist is refused at its fault in the file', async () => {
    const { zoneName, name, records } = await voidableName();
    const before = await records();
    const target = await startTarget();
    onTestFinished(() => target.stop());
    const env = { AWS_REGION: REGION };
    const file = await writeExperiment(experimentWith(target, zoneName, name, '3s'));
    const plan = await gameday(['plan', file], env).done;
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`name-void: route53 empty A ${name}. in private zone`);
    expect(plan.stdout).toContain('empties: TTL 1: 127.0.0.1');

    const missing = await writeExperiment(experimentWith(target, zoneName, `nothing.${zoneName}`, '3s'));
    const refused = await gameday(['plan', missing], env).done;
    expect(refused.code).toBe(64);
    const source = await readFile(missing, 'utf8');
    // The fault's route53 mapping, which starts at its first key.
    const line = source.split('\n').findIndex((l) => l.includes('zoneName:')) + 1;
    expect(refused.stderr.trim()).toMatch(
      new RegExp(
        `^gameday: ${missing}:${line}:\\d+  phases\\[0\\]\\.faults\\[0\\]\\.route53  fault name-void: no A record nothing\\.${zoneName.replaceAll('.', '\\.')}\\. in the private hosted zone`,
      ),
    );
    expect(await records()).toEqual(before);
  });

  it('a worker SIGKILLed while the name is void leaves it restored by the other worker', async () => {
    const { zoneName, name, ask, records } = await voidableName();
    const before = await records();
    const target = await startTarget();
    onTestFinished(() => target.stop());
    const env = cliEnv(uniqueName('route53-crash'));
    const workers = [await startWorkerProcess(env), await startWorkerProcess(env)];
    onTestFinished(async () => {
      for (const w of workers) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.done));
    });
    const out = await scratchDir('route53-crash');
    const runId = uniqueName('route53-crash');
    const file = await writeExperiment(experimentWith(target, zoneName, name, '20s'));
    const run = gameday(['run', file, '--out', out, '--id', runId], env);
    await waitFor(async () => (await ask()) === 'ENOTFOUND', { what: 'the name to be void' });
    const client = await testClient();
    await waitFor(
      async () => {
        const view = await readRun(client, runId);
        return view.state === 'running' && view.status.stage === 'watching';
      },
      {
        what: 'the phase to be watched',
      },
    );
    const { raw } = await client.workflow.getHandle(runId).describe();
    await client.connection.close();
    const watching = raw.pendingActivities?.find((a) => a.activityType?.name === 'watchPhase');
    const first = workers.find((w) => watching?.lastWorkerIdentity?.startsWith(`${w.child.pid}@`));
    if (!first) throw new Error(`the watch runs on ${watching?.lastWorkerIdentity}, not on a test worker`);

    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    // Nobody has reverted it yet: the name is still void, its mark beside it.
    expect(await ask()).toBe('ENOTFOUND');
    expect((await records()).some((r) => r.startsWith('_gameday-void-'))).toBe(true);

    const { code, stdout } = await run.done;
    expect(code, stdout).toBe(0);
    const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
    expect(journal.faults[0]).toMatchObject({ status: 'reverted', alreadyGone: false });
    expect(await records()).toEqual(before);
    // The DNS server answers from its copy of the zone, read every 250ms: the name comes back then.
    await waitFor(async () => (await ask()) === '127.0.0.1', { what: 'the name to answer again' });
  });

  it('a void whose run Temporal does not know is listed by gameday sweep --aws and restored by --apply', async () => {
    const { zoneName, name, ask, records } = await voidableName();
    const before = await records();
    // A run whose history is gone: injected, then forgotten (no workflow by that id exists).
    const lostRun = uniqueName('lost-run');
    const aws = awsLocator({ region: REGION, endpoint: motoUrl() }, undefined, {});
    const planned = route53Fault.plan(
      route53Fault.spec.parse({ zoneName, privateZone: true, name, type: 'A' }),
      { runId: lostRun, fault: 'name-void', env: {}, settings: undefined, aws },
    );
    const { handle } = await route53Fault.resolve(planned, { fault: 'name-void', maxBlastRadius: 50 });
    await route53Fault.inject(handle, {
      fault: 'name-void',
      beforeChange: () => undefined,
      firstAttempt: true,
      signal: new AbortController().signal,
    });
    // The DNS server reads the zone every 250ms.
    await waitFor(async () => (await ask()) === 'ENOTFOUND', { what: 'the name to be void' });
    const voided = await records();

    // No TOXIPROXY_URL: this sweep is about this file's moto alone.
    const env = { TEMPORAL_ADDRESS: temporalAddress(), AWS_REGION: REGION, AWS_ENDPOINT_URL: motoUrl() };
    const listed = await gameday(['sweep', '--aws', '--json'], env).done;
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(lostRun);
    expect(listed.stdout).toContain(`A ${name}.`);
    expect(await records()).toEqual(voided);

    const applied = await gameday(['sweep', '--aws', '--apply'], env).done;
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`restored A ${name}.`);
    expect(await records()).toEqual(before);
    await waitFor(async () => (await ask()) === '127.0.0.1', { what: 'the name to answer again' });
  });
});
