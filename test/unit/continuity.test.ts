/** The continuity plan: its file section, the write probe's ids, and RTO/RPO measured from recorded journals. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MAX_ACKNOWLEDGED, newSeries, record, summarizeSeries } from '../../activities/probes/series';
import { describePlan } from '../../src/cli/plan';
import type { ContinuityPlan } from '../../src/experiment/continuity';
import { ExperimentError, parseExperiment } from '../../src/experiment/load';
import { planRun, type RunPlan } from '../../src/experiment/plan';
import { http } from '../../src/providers/probes/http';
import { continuityMisses, measureContinuity, rolledBackAt } from '../../src/report/continuity';
import type { ReadBackResult } from '../../src/report/continuity-record';
import { renderHtml } from '../../src/report/html';
import { Journal } from '../../src/report/journal';
import { renderJunit } from '../../src/report/junit';
import { renderMarkdown } from '../../src/report/markdown';
import { PROJECT_ROOT } from '../../src/tools';
import { RunState } from '../../workflows/run-state';
import { junitErrors, NO_JUNIT_ERRORS } from '../junit-schema';

const recorded = (name: string): Journal =>
  Journal.parse(JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/fixtures/journals', name), 'utf8')));

const orders = (rtoMs: number, rpoMs = 0, writeProbe?: string): ContinuityPlan => ({
  services: [
    {
      name: 'orders',
      rtoMs,
      rpoMs,
      slo: ['orders-read', 'orders-write'],
      ...(writeProbe ? { writeProbe } : {}),
    },
  ],
});

describe('RTO, from the SLO probes samples', () => {
  it("the fragile build's DNS void is one stretch below SLO, longer than the phase, and misses a 5s RTO", () => {
    const journal = recorded('replay-fragile.json');
    const dnsVoid = journal.phases[0];
    if (!dnsVoid?.endedAt) throw new Error('fixture without its dns-void phase');
    // The evidence, read straight from the samples: every orders-read window in the phase failed.
    const read = dnsVoid.watch?.expectations.find((e) => e.probe === 'orders-read');
    expect(read?.summary.buckets.every((b) => b.errors === b.samples)).toBe(true);

    const [service] = measureContinuity(journal, orders(5_000), []).services;
    const below = service?.rto.longestBelowSlo;
    expect(below?.from).toBeLessThanOrEqual(dnsVoid.startedAt);
    expect(below?.to).toBeGreaterThanOrEqual(dnsVoid.endedAt);
    expect(below?.ms).toBe((below?.to ?? 0) - (below?.from ?? 0));
    expect(service?.rto.held).toBe(false);
    expect(service?.held).toBe(false);
  });

  it('the hardened build has no window below SLO and recovers within its window after rollback', () => {
    const journal = recorded('replay-hardened.json');
    const [service] = measureContinuity(journal, orders(5_000), []).services;
    expect(service?.rto.longestBelowSlo).toBeNull();
    expect(service?.rto.recoveryMs).not.toBeNull();
    expect(service?.rto.recoveryMs).toBeLessThanOrEqual(service?.rto.windowMs ?? 0);
    expect(service?.held).toBe(true);
  });

  it('a window is below SLO only beyond the tolerance of the check it was sampled for', () => {
    const journal = recorded('replay-hardened.json');
    const write = journal.phases[1]?.watch?.expectations.find((e) => e.probe === 'orders-write');
    const bucket = write?.summary.buckets[3];
    const errorRate = write?.checks.find((c) => c.measure === 'errorRate');
    if (!bucket || !errorRate) throw new Error('fixture without a lease-collapse write window');
    bucket.errors = Math.ceil(bucket.samples / 4);
    const longest = () => measureContinuity(journal, orders(5_000), []).services[0]?.rto.longestBelowSlo;
    errorRate.limit = 0.5;
    expect(longest()).toBeNull();
    errorRate.limit = 0.1;
    // The fixture's windows are 1s wide (its buckets are 1s apart).
    expect(longest()).toEqual({ from: bucket.at, to: bucket.at + 1_000, ms: 1_000 });
  });

  it('recovery is the time from the end of rollback to the first healthy window after it', () => {
    const journal = recorded('replay-hardened.json');
    const after = journal.steadyStateAfter;
    if (!after) throw new Error('fixture without a steady state after');
    const end = rolledBackAt(journal);
    // The check after rollback saw two windows fail before one held: recovery is where that one starts.
    const base = Math.floor(end / 1_000) * 1_000;
    const window = (at: number, errors: number) => ({ at, samples: 5, errors, p50: 10, p99: 20 });
    for (const probe of after.probes)
      probe.summary = {
        ...probe.summary,
        bucketMs: 1_000,
        buckets: [window(base, 5), window(base + 1_000, 1), window(base + 2_000, 0)],
      };
    const [service] = measureContinuity(journal, orders(60_000), []).services;
    expect(service?.rto.recoveryMs).toBe(base + 2_000 - end);
  });
});

describe('RPO, from the writes read back', () => {
  const journal = recorded('replay-hardened.json');
  // The write probe's acknowledged writes, as a series records them: one per sample in a window.
  const acked = journal.phases.map((phase, i) => ({ at: phase.startedAt + 100, id: `w${i}` }));
  for (const [i, phase] of journal.phases.entries()) {
    const write = phase.watch?.expectations.find((e) => e.probe === 'orders-write');
    if (write) write.summary.acknowledged = { count: 1, writes: [acked[i] as { at: number; id: string }] };
  }
  const readBack = (lost: typeof acked, unverified: typeof acked = []): ReadBackResult[] => [
    { service: 'orders', checked: acked.length, lost, unverified },
  ];

  it('lost writes are counted, listed and spanned; an RPO of 0 tolerates none', () => {
    const lost = [acked[1], acked[3]] as typeof acked;
    const [service] = measureContinuity(journal, orders(60_000, 0, 'orders-write'), readBack(lost)).services;
    expect(service?.rpo).toMatchObject({
      acknowledged: acked.length,
      checked: acked.length,
      lost: 2,
      unverified: 0,
      lostWrites: lost,
      lostSpan: { from: lost[0]?.at, to: lost[1]?.at, ms: (lost[1]?.at ?? 0) - (lost[0]?.at ?? 0) },
      held: false,
    });
    const span = service?.rpo?.lostSpan?.ms ?? 0;
    const wide = measureContinuity(journal, orders(60_000, span, 'orders-write'), readBack(lost));
    expect(wide.services[0]?.rpo?.held).toBe(true);
    const narrow = measureContinuity(journal, orders(60_000, span - 1, 'orders-write'), readBack(lost));
    expect(narrow.services[0]?.rpo?.held).toBe(false);
  });

  it('zero lost writes is a finding: held only when writes were acknowledged, read back and all found', () => {
    const none = measureContinuity(journal, orders(60_000, 0, 'orders-write'), readBack([]));
    expect(none.services[0]?.rpo).toMatchObject({ lost: 0, checked: acked.length, held: true });
    const unread = measureContinuity(journal, orders(60_000, 0, 'orders-write'), []);
    expect(unread.services[0]?.rpo?.held).toBe(false);
    const unverified = measureContinuity(
      journal,
      orders(60_000, 0, 'orders-write'),
      readBack([], [acked[0] as (typeof acked)[0]]),
    );
    expect(unverified.services[0]?.rpo?.held).toBe(false);
    const nothing = measureContinuity(
      recorded('replay-fragile.json'),
      orders(60_000, 0, 'orders-write'),
      readBack([]),
    );
    expect(nothing.services[0]?.rpo).toMatchObject({ acknowledged: 0, held: false });
  });
});

describe('the verdict and the reports', () => {
  const plan = {
    runId: 'r',
    phases: [{ name: 'p', durationMs: 1, faults: [], expectations: [] }],
    recovery: { withinMs: 1_000 },
  } as unknown as RunPlan;
  const steady = { ok: true, startedAt: 0, endedAt: 0, attempts: 1, probes: [] };

  it('a plan that misses its RTO deviates, with the service and the figures in the reason', () => {
    const run = new RunState(plan);
    run.steadyStateBefore = steady;
    run.endPhase(run.startPhase(0, 1), null);
    run.steadyStateAfter = steady;
    expect(run.decide().verdict).toBe('passed');
    run.continuity = measureContinuity(recorded('replay-fragile.json'), orders(5_000), []);
    const { verdict, reason } = run.decide();
    expect(verdict).toBe('deviated');
    expect(reason).toContain('continuity plan missed: orders RTO 28s below SLO');
    expect(continuityMisses(run.continuity)).toHaveLength(1);
  });

  it('Markdown and JUnit carry the scorecard: target, measured, held or missed', async () => {
    const journal = recorded('replay-fragile.json');
    journal.continuity = measureContinuity(journal, orders(5_000), []);
    const markdown = renderMarkdown(journal);
    expect(markdown).toContain('## Continuity plan');
    expect(markdown).toContain('| orders | RTO | 5s | 28s below SLO, recovered in 0ms | **MISSED** |');
    const junit = renderJunit(journal, 'host');
    expect(junit).toContain('<testcase name="orders RTO" classname="gameday.oct20-replay.continuity"');
    expect(junit).toContain('type="ContinuityPlanMissed"');
    expect(await junitErrors(junit)).toEqual(NO_JUNIT_ERRORS);
    const page = renderHtml(journal);
    expect(page).toContain(
      '<tr data-service="orders" data-measure="RTO"><td>orders</td><td>RTO</td><td>5s</td><td>28s below SLO, recovered in 0ms</td><td class="failed">MISSED</td>',
    );
    // A journal without a plan shows none.
    expect(renderMarkdown(recorded('replay-fragile.json'))).not.toContain('Continuity plan');
    expect(renderHtml(recorded('replay-fragile.json'))).not.toContain('Continuity plan');
  });
});

describe('the continuity section of an experiment file', () => {
  const file = (continuity: string, ackId = '      ackId: id\n') => `version: 1
name: c
description: d
target: { environment: local }
steadyState:
  - name: orders-write
    http:
      url: http://127.0.0.1:1/orders
      method: POST
${ackId}phases: [{ name: p, duration: 1s }]
continuity:
${continuity}`;
  const issues = (text: string) => {
    try {
      parseExperiment(text, 'c.yaml', {});
      return [];
    } catch (error) {
      if (!(error instanceof ExperimentError)) throw error;
      return error.issues.map((issue) => `${issue.line}:${issue.col} ${issue.path} ${issue.message}`);
    }
  };
  const service = `  services:
    - name: orders
      rto: 5s
      rpo: 0s
      slo: [orders-write]
      writeProbe: orders-write
      readBack: { http: { url: "http://127.0.0.1:1/orders/{id}" } }
`;

  it('accepts a service with its write probe and read-back, and `gameday plan` says what will be measured', async () => {
    expect(issues(file(service))).toEqual([]);
    const plan = planRun(parseExperiment(file(service), 'c.yaml', {}), {
      runId: 'r',
      file: 'c.yaml',
      sha256: '',
      outDir: '/tmp/r',
    });
    expect(plan.continuity?.services[0]).toEqual({
      name: 'orders',
      rtoMs: 5_000,
      rpoMs: 0,
      slo: ['orders-write'],
      writeProbe: 'orders-write',
      readBack: { url: 'http://127.0.0.1:1/orders/{id}', method: 'GET', timeoutMs: 2_000, okStatus: [200] },
    });
    expect(await describePlan(plan, null)).toContain(
      "continuity orders: RTO 5s (SLO orders-write), RPO no write lost; orders-write's acknowledged writes read back with GET http://127.0.0.1:1/orders/{id}",
    );
  });

  it('refuses names that are no probe, a write probe without ackId, a read-back without {id}, at their place', () => {
    expect(issues(file(service.replace('slo: [orders-write]', 'slo: [orders-read]')))).toEqual([
      '17:13 continuity.services[0].slo[0] no steadyState probe is named "orders-read" (known: orders-write)',
    ]);
    expect(issues(file(service, ''))).toEqual([
      '17:19 continuity.services[0].writeProbe probe "orders-write" must be an http probe with ackId (the JSON field of the id it is acknowledged with)',
    ]);
    expect(issues(file(service.replace('/orders/{id}', '/orders')))).toEqual([
      '19:32 continuity.services[0].readBack.http.url the url must hold {id}, where the id goes',
    ]);
    expect(issues(file(service.replace('rto: 5s', 'rto: soon')))[0]).toContain('continuity.services[0].rto');
  });
});

describe("the write probe's acknowledged ids", () => {
  it('an http probe with ackId takes the id from a 2xx answer, and no id from an error', async () => {
    let next = 0;
    const server = createServer((request, response) => {
      next++;
      const status = request.url === '/fails' ? 503 : 202;
      response
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ order: { id: `o-${next}` } }));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    onTestFinished(() => new Promise<void>((done) => server.close(() => done())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const plan = (path: string, ackId?: string) =>
      http.plan(
        http.spec.parse({ url: `${url}${path}`, method: 'POST', ...(ackId ? { ackId } : {}) }),
        {} as never,
        undefined,
      );
    expect(await http.sample(plan('/orders', 'order.id'), undefined)).toMatchObject({
      ok: true,
      status: 202,
      ackId: 'o-1',
    });
    expect((await http.sample(plan('/orders'), undefined)).ackId).toBeUndefined();
    expect(await http.sample(plan('/fails', 'order.id'), undefined)).toMatchObject({
      ok: false,
      status: 503,
    });
    expect((await http.sample(plan('/fails', 'order.id'), undefined)).ackId).toBeUndefined();
    expect((await http.sample(plan('/orders', 'missing'), undefined)).ackId).toBeUndefined();
  });

  it('a window counts every acknowledged write and keeps an evenly spread, bounded set of them', () => {
    const series = newSeries({ everyMs: 10, heldCap: 1_000, bucketMs: 1_000 });
    const total = MAX_ACKNOWLEDGED * 3 + 7;
    for (let i = 0; i < total; i++)
      record(series, { at: i * 10, ok: true, latencyMs: 1, status: 201, ackId: `w${i}` });
    const summary = summarizeSeries({ name: 'w' }, series, {
      from: 0,
      to: total * 10,
      everyMs: 10,
      tailMs: 0,
    });
    expect(summary.acknowledged?.count).toBe(total);
    const kept = summary.acknowledged?.writes ?? [];
    expect(kept.length).toBeLessThanOrEqual(MAX_ACKNOWLEDGED);
    expect(kept.length).toBeGreaterThan(MAX_ACKNOWLEDGED / 2);
    expect(kept[0]?.id).toBe('w0');
    expect(kept.at(-1)?.at).toBeGreaterThan((total - 10) * 10 - (total / kept.length) * 10 * 2);
  });
});
