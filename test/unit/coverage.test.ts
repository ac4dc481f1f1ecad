/**
 * A guardrail or an expectation that saw less than 80% of its planned samples cannot be "held":
 * the verdict and every report say how much it saw.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunPlan } from '../../src/experiment/plan';
import { renderHtml } from '../../src/report/html';
import { Journal, type WatchResult } from '../../src/report/journal';
import { renderJunit } from '../../src/report/junit';
import { renderMarkdown } from '../../src/report/markdown';
import { checkResults } from '../../src/report/results';
import { PROJECT_ROOT } from '../../src/tools';
import { RunState } from '../../workflows/run-state';
import { junitErrors, NO_JUNIT_ERRORS } from '../junit-schema';

const hardened = Journal.parse(
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/fixtures/journals/replay-hardened.json'), 'utf8')),
);

/** The hardened replay as if its first phase's watch had lost half of its guardrail's samples. */
function halfSeen(): Journal {
  const journal = structuredClone(hardened);
  const watch = journal.phases[0]?.watch as WatchResult;
  const guardrail = watch.guardrails[0];
  if (!guardrail) throw new Error('fixture has no guardrail');
  Object.assign(guardrail, { samples: 148, expected: 300 });
  return journal;
}

const plan = { runId: 'r', phases: [], recovery: { withinMs: 1_000 } } as unknown as RunPlan;

function decided(journal: Journal) {
  const run = new RunState(plan);
  run.steadyStateBefore = journal.steadyStateBefore;
  run.steadyStateAfter = journal.steadyStateAfter;
  run.phases.push(...journal.phases);
  return run.decide();
}

describe('a gap in the record', () => {
  it('is said in the event log when its phase ends', () => {
    const restarted = Journal.parse(
      JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/fixtures/journals/temporal-restart.json'), 'utf8')),
    );
    const run = new RunState({ ...plan, phases: [{ name: 'slow', faults: [] }] } as unknown as RunPlan);
    const record = run.startPhase(0, 20_000);
    run.endPhase(record, restarted.phases[0]?.watch ?? null);
    const gaps = run.events.filter((e) => e.type === 'samples.gap').map((e) => e.message);
    expect(gaps).toHaveLength(2);
    expect(gaps[0]).toMatch(/^svc-up in slow: no samples for 6\.8s from \+.+ \(67 planned samples missed\)$/);
  });
});

describe('a guardrail that saw half its phase', () => {
  it('makes the run deviated, saying how much it saw', () => {
    expect(decided(hardened).verdict).toBe('passed');
    expect(decided(halfSeen())).toEqual({
      verdict: 'deviated',
      reason:
        'too few samples to hold: guardrail load-balancer-alive in dns-void saw 148 of ~300 samples (49%) (fewer than the 80% of planned samples a check needs to hold)',
    });
  });

  it('is not "held" in any report: each says how much it saw', async () => {
    const journal = { ...halfSeen(), verdict: 'deviated' as const, reason: 'too few samples' };
    const row = checkResults(journal).find((r) => r.name === 'dns-void: load-balancer-alive');
    expect(row).toMatchObject({
      ok: false,
      undersampled: true,
      failure: 'saw 148 of ~300 samples (49%): fewer than the 80% of planned samples a check needs to hold',
    });
    expect(row?.measured).toMatch(/^148 of ~300 samples \(49%\), /);

    expect(renderHtml(journal)).toMatch(
      /<td>dns-void: load-balancer-alive<\/td><td class="failed">TOO FEW SAMPLES<\/td><td>148 of ~300 samples \(49%\)/,
    );
    expect(renderMarkdown(journal)).toContain(
      '| guardrail | dns-void: load-balancer-alive | **TOO FEW SAMPLES** | 148 of \\~300 samples \\(49%\\)',
    );
    const xml = renderJunit(journal);
    expect(xml).toMatch(/<failure message="saw 148 of ~300 samples \(49%\): [^"]*" type="TooFewSamples">/);
    expect(await junitErrors(xml)).toEqual(NO_JUNIT_ERRORS);
  });

  it('an expectation that saw too little fails with its coverage, apart from failures of what it measured', () => {
    const journal = structuredClone(hardened);
    const expectation = journal.phases[1]?.watch?.expectations[0];
    if (!expectation) throw new Error('fixture has no expectation');
    Object.assign(expectation.summary, { samples: 100, expected: 252 });
    expectation.checks.push({ measure: 'coverage', limit: 0.8, measured: 0.397, ok: false });
    expectation.ok = false;
    expect(decided(journal).reason).toBe(
      'too few samples to hold: expectation orders-read in lease-collapse saw 100 of ~252 samples (39%) (fewer than the 80% of planned samples a check needs to hold)',
    );
    const row = checkResults(journal).find((r) => r.name === 'lease-collapse: orders-read');
    expect(row).toMatchObject({ ok: false, undersampled: true });
    expect(row?.failure).toBe(
      'saw 100 of ~252 samples (39%), fewer than the 80% of planned samples a check needs to hold',
    );
    expect(row?.tolerance).toContain('at least 80% of planned samples seen');
  });
});
