/** docs/architecture.md's verdict table, row by row, as RunState decides it. */
import { describe, expect, it } from 'vitest';
import type { RunPlan } from '../../src/experiment/plan';
import type { FaultHandle, HypothesisCheck, SteadyStateResult, WatchResult } from '../../src/report/journal';
import { RunState } from '../../workflows/run-state';

const plan = {
  runId: 'r',
  phases: [{ name: 'p', durationMs: 1, faults: [], expectations: [] }],
  recovery: { withinMs: 1_000 },
} as unknown as RunPlan;
const handle: FaultHandle = {
  name: 'f',
  phase: 'p',
  provider: 'toxiproxy',
  toxiproxy: { action: 'down', url: 'http://t', proxy: 'x' },
};
const steady = (ok: boolean): SteadyStateResult => ({
  ok,
  startedAt: 0,
  endedAt: 0,
  attempts: 1,
  probes: [],
});
const check = (ok: boolean) => ({ probe: 'ok', ok, checks: [], summary: {} }) as unknown as HypothesisCheck;
const watch = (ok: boolean): WatchResult => ({
  phase: 'p',
  startedAt: 0,
  endedAt: 0,
  guardrails: [],
  expectations: [check(ok)],
  breach: null,
  observations: [],
  attempts: 1,
  workers: [],
});

function ranPhase(expectationHeld = true): RunState {
  const run = new RunState(plan);
  // What prepare answers: the fault in words, as its provider describes it.
  run.usePrepared({
    account: null,
    resolved: [handle],
    descriptions: { f: 'toxiproxy http://t proxy x disabled' },
    lockKeys: [],
    createdProxies: [],
  });
  run.steadyStateBefore = steady(true);
  const record = run.startPhase(0, 1);
  const fault = run.record(handle);
  fault.status = 'reverted';
  run.endPhase(record, watch(expectationHeld));
  run.steadyStateAfter = steady(true);
  return run;
}

describe('verdicts', () => {
  it('passed: steady state before and after, every expectation held', () => {
    expect(ranPhase().decide().verdict).toBe('passed');
  });

  it('deviated: an expectation failed, or steady state did not return in time', () => {
    expect(ranPhase(false).decide()).toEqual({
      verdict: 'deviated',
      reason: 'phase expectation failed: p/ok',
    });
    const slow = ranPhase();
    slow.steadyStateAfter = steady(false);
    expect(slow.decide().verdict).toBe('deviated');
  });

  it('aborted: a breach, an abort or a failure, once rollback completed', () => {
    const breached = ranPhase(false);
    breached.breach = {
      guardrail: 'g',
      probe: 'ok',
      measure: 'errorRate',
      measured: 1,
      threshold: 0.5,
      decidedAt: 0,
      firstFailingSampleAt: 0,
    };
    expect(breached.decide().verdict).toBe('aborted');
    const aborted = ranPhase();
    aborted.requestAbort({ type: 'abort', at: 0, by: 'me', reason: 'why' });
    expect(aborted.decide()).toEqual({ verdict: 'aborted', reason: 'abort by me: why' });
  });

  it('rollback-failed wins over everything but not-started, and lists what remains', () => {
    const stuck = ranPhase();
    stuck.requestAbort({ type: 'abort', at: 0, by: 'me', reason: 'why' });
    const fault = stuck.faults[0];
    if (fault) Object.assign(fault, { status: 'revert-failed', lastRevertError: 'unreachable' });
    expect(stuck.decide().verdict).toBe('rollback-failed');
    expect(stuck.remaining()).toEqual([
      { what: 'fault f', detail: 'toxiproxy http://t proxy x disabled; last error: unreachable' },
    ]);
  });

  it('not-started: steady state failed before, nothing injected', () => {
    const run = new RunState(plan);
    run.steadyStateBefore = steady(false);
    expect(run.decide().verdict).toBe('not-started');
  });
});
