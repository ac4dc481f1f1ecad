/**
 * The HTML, JUnit and trend reports, rendered from journals of real replay runs in the lab (and
 * from variants of them for the endings a replay did not reach).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html';
import { Journal } from '../../src/report/journal';
import { renderJunit } from '../../src/report/junit';
import { checkResults } from '../../src/report/results';
import { renderTrend } from '../../src/report/trend';
import { PROJECT_ROOT } from '../../src/tools';
import { junitErrors, NO_JUNIT_ERRORS } from '../junit-schema';

const load = (name: string) =>
  Journal.parse(JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/fixtures/journals', name), 'utf8')));
const fragile = load('replay-fragile.json');
const hardened = load('replay-hardened.json');

/** The fragile run as if its guardrail had breached in the second phase. */
function abortedByGuardrail(): Journal {
  const journal = structuredClone(fragile);
  const phase = journal.phases[1];
  if (!phase?.watch) throw new Error('fixture has no second phase');
  phase.watch.breach = {
    guardrail: 'load-balancer-alive',
    probe: 'orders-lb-health',
    measure: 'errorRate',
    measured: 0.6,
    threshold: 0.5,
    decidedAt: phase.startedAt + 2_000,
    firstFailingSampleAt: phase.startedAt + 1_500,
  };
  return { ...journal, phases: journal.phases.slice(0, 2), verdict: 'aborted', reason: 'guardrail breached' };
}

function rollbackFailed(): Journal {
  const journal = structuredClone(hardened);
  const fault = journal.faults[0];
  if (!fault) throw new Error('fixture has no fault');
  fault.status = 'revert-failed';
  fault.revertedAt = undefined;
  fault.lastRevertError = 'connection refused';
  return {
    ...journal,
    verdict: 'rollback-failed',
    reason: 'a fault could not be reverted',
    remaining: [{ what: `fault ${fault.handle.name}`, detail: 'toxic still on proxy dynamodb' }],
  };
}

function notStarted(): Journal {
  const journal = structuredClone(hardened);
  const before = journal.steadyStateBefore;
  if (!before) throw new Error('fixture has no steady state');
  before.ok = false;
  before.probes[0] = { ...(before.probes[0] as (typeof before.probes)[number]), ok: false };
  return {
    ...journal,
    verdict: 'not-started',
    reason: 'steady state did not hold',
    phases: [],
    faults: [],
    steadyStateAfter: null,
    recovery: { ...journal.recovery, recoveredAfterMs: null },
  };
}

function abortedByPerson(): Journal {
  const journal = structuredClone(hardened);
  return {
    ...journal,
    verdict: 'aborted',
    reason: 'aborted by ana: pager fired',
    signals: [{ type: 'abort', at: journal.startedAt + 5_000, by: 'ana', reason: 'pager fired' }],
  };
}

describe('the JUnit report', () => {
  const endings: [string, Journal][] = [
    ['passed', hardened],
    ['deviated', fragile],
    ['aborted by a guardrail', abortedByGuardrail()],
    ['aborted by a person', abortedByPerson()],
    ['rollback-failed', rollbackFailed()],
    ['not-started', notStarted()],
  ];

  it.each(endings)('validates against the Jenkins and Ant JUnit schemas when %s', async (_, journal) => {
    expect(await junitErrors(renderJunit(journal))).toEqual(NO_JUNIT_ERRORS);
  });

  it('has one testcase per hypothesis check, failures carrying the measured value and the tolerance', () => {
    const xml = renderJunit(fragile, 'ci-host');
    const results = checkResults(fragile);
    expect(xml.match(/<testcase /g)).toHaveLength(results.length);
    const failed = results.filter((r) => r.ok === false);
    expect(failed.length).toBeGreaterThan(0);
    expect(xml).toContain(`tests="${results.length}" failures="${failed.length}" errors="0" skipped="0"`);
    expect(xml).toContain(
      '<failure message="status: measured [503], tolerance status in [200]; errorRate: measured 100%, tolerance errorRate ≤ 1.0%',
    );
    expect(xml).toMatch(
      /<testcase name="dns-void: orders-read" classname="gameday.oct20-replay.phase" time="[\d.]+">/,
    );
  });

  it('fails the guardrail that breached, the rollback that did not finish, and errors an abort by a person', () => {
    expect(renderJunit(abortedByGuardrail())).toMatch(
      /<testcase name="lease-collapse: load-balancer-alive"[^>]*>\s*<failure message="guardrail load-balancer-alive breached: errorRate 60.0% reached 50.0%/,
    );
    expect(renderJunit(rollbackFailed())).toMatch(
      /<testcase name="rollback"[^>]*>\s*<failure message="STILL INJECTED: fault dynamodb-unreachable: toxic still on proxy dynamodb/,
    );
    expect(renderJunit(abortedByPerson())).toMatch(
      /<testcase name="run completed"[^>]*>\s*<error message="aborted: aborted by ana: pager fired/,
    );
  });
  it('is never green for a run that did not pass, even when no hypothesis check ran', async () => {
    const refused: Journal = {
      ...notStarted(),
      steadyStateBefore: null,
      reason: 'nothing was injected: the AWS account is not in target.accounts',
    };
    const xml = renderJunit(refused);
    expect(xml).toMatch(
      /<testcase name="run completed"[^>]*>\s*<error message="not-started: nothing was injected/,
    );
    expect(xml).toContain('hostname="localhost"');
    expect(await junitErrors(xml)).toEqual(NO_JUNIT_ERRORS);
    expect(renderJunit(fragile)).toContain('hostname="vm"');
  });
});

describe('the HTML report', () => {
  it('draws latency and error rate per request probe, the count per fleet probe, each with a band per phase and a strip per fault', () => {
    const page = renderHtml(fragile);
    const requests = ['orders-read', 'orders-write', 'load-balancer-alive'];
    for (const probe of requests)
      expect(page).toContain(`<figure class="probe-timeline" data-probe="${probe}" data-kind="http">`);
    expect(page).toContain('<figure class="probe-timeline" data-probe="fleet" data-kind="ec2Fleet">');
    const charts = 2 * requests.length + 1;
    expect(page.match(/<svg class="chart"/g)).toHaveLength(charts);
    expect(page.match(/class="phase-band"/g)).toHaveLength(charts * fragile.phases.length);
    expect(page.match(/class="fault-window"/g)).toHaveLength(charts * fragile.faults.length);
    expect(page).toContain('<p class="verdict">DEVIATED</p>');
  });

  it('marks aborts but not approvals on the charts', () => {
    const journal = structuredClone(abortedByPerson());
    journal.signals.push({
      type: 'approve',
      at: journal.startedAt + 1_000,
      by: 'bo',
      reason: 'phase dns-void',
    });
    const page = renderHtml(journal);
    const charts = page.match(/<svg class="chart"/g)?.length ?? 0;
    expect(page.match(/class="marker abort-marker"/g)).toHaveLength(charts);
    expect(page).toContain('<strong>approve</strong> by bo');
  });

  it('marks a guardrail breach and says loudly what is still injected', () => {
    expect(renderHtml(abortedByGuardrail())).toContain('class="marker breach-marker"');
    const failed = renderHtml(rollbackFailed());
    expect(failed).toContain('<strong>STILL INJECTED</strong>');
    expect(failed).toContain('<strong>fault dynamodb-unreachable</strong>: toxic still on proxy dynamodb');
  });

  it('renders every journal value as text: no markup from a note, a reason, a name or an event survives', () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const journal = structuredClone(abortedByGuardrail());
    journal.experiment.description = hostile;
    journal.reason = hostile;
    journal.notes = [{ at: journal.startedAt, by: hostile, text: hostile }];
    journal.signals = [{ type: 'abort', at: journal.startedAt, by: hostile, reason: hostile }];
    journal.events.push({ at: journal.startedAt, type: hostile, message: hostile });
    journal.remaining = [{ what: hostile, detail: hostile }];
    const page = renderHtml(journal);
    expect(page).not.toMatch(/<script|<img/i);
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;');
  });

  it('is one self-contained file: no script, no external reference', () => {
    const page = renderHtml(fragile);
    expect(page).not.toMatch(/<script|<link|@import|url\(|src="http|href="http/i);
  });
});

describe('the trend page', () => {
  it('shows each run in time order with its verdict, recovery and availability per phase', () => {
    const page = renderTrend([hardened, fragile]);
    expect(page.match(/<li class="verdict-/g)).toHaveLength(2);
    expect(page.indexOf('<li class="verdict-deviated"')).toBeLessThan(
      page.indexOf('<li class="verdict-passed"'),
    );
    // One availability chart per expectation probe, a line per phase.
    expect(page.match(/<figure class="trend-chart">/g)).toHaveLength(1 + 3);
    expect(page).toContain('orders-read 0%');
    expect(page).toContain('orders-read 100%');
  });
});
