/**
 * Everything a run knows about itself: what it has recorded, injected and reverted, what it
 * measured and what happened to it. The workflow updates it; the status query reads it; at the
 * end it becomes the journal and the verdict.
 */
import { ActivityFailure, workflowInfo } from '@temporalio/workflow';
import type { PrepareResult } from '../activities/prepare';
import { formatDuration } from '../src/experiment/duration';
import type { FaultTiming } from '../src/experiment/fault-timing';
import type { RunPlan } from '../src/experiment/plan';
import { continuityMisses } from '../src/report/continuity';
import type { ContinuityRecord } from '../src/report/continuity-record';
import { failedOnMeasurement, NEEDED_TEXT, phaseGapTexts, undersampled } from '../src/report/coverage';
import type {
  FaultHandle,
  FaultRecord,
  GuardrailBreach,
  Journal,
  JournalEvent,
  ObserverNote,
  PhaseRecord,
  ProbeSummary,
  RollbackStepRecord,
  Signal,
  SteadyStateResult,
  Verdict,
  WatchResult,
} from '../src/report/journal';
import { JOURNAL_VERSION } from '../src/report/journal-version';
import { checkName } from '../src/report/results';
import type { HeldLock } from './lock';
import type { ApprovalAnswer, ApprovalRequest, RunStatus, Stage, Waiting } from './messages';

export const GAMEDAY_VERSION = '0.1.0';

export class RunState {
  readonly startedAt = Date.now();
  stage: Stage = 'locking';
  phase: RunStatus['phase'] = null;
  readonly faults: FaultRecord[] = [];
  readonly phases: PhaseRecord[] = [];
  readonly rollbackSteps: RollbackStepRecord[] = [];
  readonly signals: Signal[] = [];
  readonly notes: ObserverNote[] = [];
  readonly events: JournalEvent[] = [];
  waiting: Waiting | null = null;
  /** Phases whose gate someone opened. */
  private readonly approved = new Set<string>();
  latest: ProbeSummary[] = [];
  steadyStateBefore: SteadyStateResult | null = null;
  steadyStateAfter: SteadyStateResult | null = null;
  breach: GuardrailBreach | null = null;
  abort: Signal | null = null;
  /** Why the run stopped early other than a breach or an abort: an inject or an activity failed. */
  failure: string | null = null;
  refused: 'unavailable' | 'invalid-target' | null = null;
  /** The lock workflow of a target another run holds; the run then does nothing. */
  lockedOutBy: string | null = null;
  readonly locks: HeldLock[] = [];
  account: { id: string; arn: string } | null = null;
  private readonly resolvedHandles = new Map<string, FaultHandle>();
  /** What each fault touches, in words, as the activities described it: workflow code names no provider. */
  private readonly descriptions = new Map<string, string>();
  verdict: Verdict | null = null;
  reason = '';
  /** Each critical service against its RTO and RPO, once measured (workflows/continuity.ts). */
  continuity: ContinuityRecord | null = null;

  constructor(readonly plan: RunPlan) {}

  hold(locks: HeldLock[]): void {
    this.locks.push(...locks);
    for (const lock of locks) this.log('lock.acquired', lock.workflowId);
  }

  usePrepared(answer: PrepareResult): void {
    // Runs recorded before AWS targets existed answered with createdProxies only.
    const prepared: PrepareResult = {
      ...answer,
      account: answer.account ?? null,
      resolved: answer.resolved ?? [],
    };
    this.account = prepared.account;
    for (const handle of prepared.resolved) this.resolvedHandles.set(handle.name, handle);
    for (const [name, text] of Object.entries(prepared.descriptions ?? {})) this.descriptions.set(name, text);
    if (prepared.account) this.log('aws.account', `${prepared.account.id} (${prepared.account.arn})`);
    if (prepared.createdProxies.length) this.log('proxies.created', prepared.createdProxies.join(', '));
    // What resolving found out (which instances, exactly), where it found anything.
    for (const handle of prepared.resolved) {
      const planned = this.plan.phases.flatMap((p) => p.faults).find((f) => f.name === handle.name);
      if (planned && JSON.stringify(planned) !== JSON.stringify(handle))
        this.log('targets.resolved', `${handle.name}: ${this.describe(handle)}`);
    }
  }

  /** One line that says what a fault touches; the provider's name alone when no activity said more. */
  describe(handle: FaultHandle): string {
    return this.descriptions.get(handle.name) ?? `${handle.provider} fault ${handle.name}`;
  }

  /** A fault is in place: its handle as the inject left it, and what it touches now. */
  injected(
    fault: FaultRecord,
    answer: { injectedAt: number; handle?: FaultHandle; description?: string },
  ): void {
    // Runs recorded before injects returned a handle keep the one they had.
    fault.handle = answer.handle ?? fault.handle;
    fault.status = 'injected';
    fault.injectedAt = answer.injectedAt;
    if (answer.description) this.descriptions.set(fault.handle.name, answer.description);
    this.log('fault.injected', `${fault.handle.name}: ${this.describe(fault.handle)}`);
  }

  injectFailed(fault: FaultRecord, message: string): void {
    fault.injectError = message;
  }

  /** One revert call starts. */
  reverting(fault: FaultRecord): void {
    fault.status = 'reverting';
    fault.revertAttempts++;
  }

  reverted(
    fault: FaultRecord,
    answer: { revertedAt: number; alreadyGone: boolean; handle?: FaultHandle; note?: string },
  ): void {
    if (answer.note) {
      fault.revertNote = answer.note;
      this.log('fault.revert-note', `${fault.handle.name}: ${answer.note}`);
    }
    Object.assign(fault, {
      handle: answer.handle ?? fault.handle,
      status: 'reverted',
      revertedAt: answer.revertedAt,
      alreadyGone: answer.alreadyGone,
      lastRevertError: undefined,
    });
    this.log(
      'fault.reverted',
      `${fault.handle.name}${answer.alreadyGone ? ' (already gone)' : ''}${inPlace(fault)}`,
    );
  }

  revertFailed(fault: FaultRecord, message: string): void {
    fault.lastRevertError = message;
    this.log('fault.revert-failed', `${fault.handle.name} attempt ${fault.revertAttempts}: ${message}`);
  }

  /** The rollback timeout passed with the fault still in place: someone must remove it by hand. */
  gaveUp(fault: FaultRecord): void {
    fault.status = 'revert-failed';
  }

  /** A fault's handle as preparing resolved it (which instances, exactly). */
  resolved(handle: FaultHandle): FaultHandle {
    return this.resolvedHandles.get(handle.name) ?? handle;
  }

  log(type: string, message: string): void {
    this.events.push({ at: Date.now(), type, message });
  }

  enter(stage: Stage): void {
    this.stage = stage;
  }

  record(handle: FaultHandle): FaultRecord {
    const fault: FaultRecord = { handle, status: 'recorded', recordedAt: Date.now(), revertAttempts: 0 };
    this.faults.push(fault);
    this.log('fault.recorded', `${handle.name}: ${this.describe(handle)}`);
    return fault;
  }

  /** Faults that may still be in place, newest first: the order they are reverted in. */
  unreverted(faults: FaultRecord[] = this.faults): FaultRecord[] {
    return faults.filter((fault) => fault.status !== 'reverted').reverse();
  }

  /**
   * When the rollback really ended, what recovery is timed from: the last fault seen gone or the
   * last rollback step, and never before the last phase ended.
   */
  rolledBackAt(): number {
    const ends = [
      this.phases.at(-1)?.endedAt ?? 0,
      ...this.faults.map((fault) => fault.revertedAt ?? 0),
      ...this.rollbackSteps.map((step) => step.at),
    ];
    return Math.max(...ends) || Date.now();
  }

  startPhase(index: number, durationMs: number): PhaseRecord {
    const plan = this.plan.phases[index];
    if (!plan) throw new Error(`no phase ${index}`);
    const now = Date.now();
    this.phase = {
      name: plan.name,
      index,
      count: this.plan.phases.length,
      startedAt: now,
      endsAt: now + durationMs,
    };
    const record: PhaseRecord = {
      name: plan.name,
      plannedMs: durationMs,
      startedAt: now,
      faults: plan.faults.map((f) => f.name),
      watch: null,
    };
    this.phases.push(record);
    this.log('phase.started', `${plan.name} for ${durationMs}ms`);
    return record;
  }

  showSteadyState(result: SteadyStateResult): void {
    this.latest = result.probes.map((p) => ({ ...p.summary, probe: `steady state ${p.probe}` }));
  }

  watchUntil(endsAt: number): void {
    this.stage = 'watching';
    if (this.phase) this.phase = { ...this.phase, endsAt };
  }

  endPhase(record: PhaseRecord, watch: WatchResult | null): void {
    record.endedAt = Date.now();
    record.watch = watch;
    if (watch) {
      this.latest = [
        ...watch.guardrails.map((summary) => ({ ...summary, probe: `guardrail ${summary.probe}` })),
        ...watch.expectations.map((e) => ({ ...e.summary, probe: `expect ${e.probe}` })),
      ];
    }
    for (const observation of watch?.observations ?? []) {
      const last = observation.states.at(-1);
      if (last?.ended) {
        this.log(
          'fault.ended-early',
          `${observation.fault}: ${observation.subject} ${last.status} during the phase (${last.reason})`,
        );
      }
    }
    for (const gap of phaseGapTexts(record, this.startedAt)) this.log('samples.gap', gap);
    this.log('phase.ended', record.name);
  }

  /** Timed faults whose start the phase never reached: the journal says they were never injected. */
  notInjected(record: PhaseRecord, timings: FaultTiming[], faults: FaultRecord[]): void {
    const missed = timings.filter((t) => !faults.some((fault) => fault.handle.name === t.fault));
    if (missed.length === 0) return;
    record.notInjected = missed.map((t) => t.fault);
    for (const t of missed)
      this.log(
        'fault.not-injected',
        `${t.fault}: never injected, the phase stopped before its start at +${formatDuration(t.startAfterMs)}`,
      );
  }

  requestAbort(signal: Signal): void {
    this.signals.push(signal);
    if (!this.abort) this.abort = signal;
    this.log(signal.type, `${signal.type} by ${signal.by}: ${signal.reason}`);
  }

  waitForApproval(phase: string, timeoutMs: number): void {
    const now = Date.now();
    this.stage = 'awaiting-approval';
    this.waiting = { for: 'approval', phase, since: now, timeoutAt: now + timeoutMs };
    this.log(
      'gate.waiting',
      `phase ${phase} waits for an approval until ${new Date(now + timeoutMs).toISOString()}`,
    );
  }

  isApproved(phase: string): boolean {
    return this.approved.has(phase);
  }

  approve(request: ApprovalRequest): ApprovalAnswer {
    const waiting = this.waiting;
    if (this.abort) return { accepted: false, message: `the run is being aborted (${this.abort.reason})` };
    if (!waiting)
      return { accepted: false, message: `the run is not waiting at a gate (it is ${this.stage})` };
    if (request.phase && request.phase !== waiting.phase)
      return {
        accepted: false,
        message: `the run waits at the gate of phase ${waiting.phase}, not ${request.phase}`,
      };
    this.approved.add(waiting.phase);
    this.waiting = null;
    this.signals.push({ type: 'approve', at: Date.now(), by: request.by, reason: `phase ${waiting.phase}` });
    this.log('gate.approved', `phase ${waiting.phase} approved by ${request.by}`);
    return { accepted: true, message: `phase ${waiting.phase} approved; its faults are injected next` };
  }

  addNote(by: string, text: string): ObserverNote {
    const note = { at: Date.now(), by, text };
    this.notes.push(note);
    return note;
  }

  status(): RunStatus {
    return {
      runId: this.plan.runId,
      experiment: this.plan.experiment.name,
      stage: this.stage,
      startedAt: this.startedAt,
      phase: this.phase,
      faults: this.faults,
      latest: this.latest,
      abort: this.abort,
      verdict: this.verdict,
      waiting: this.waiting,
      notes: this.notes,
    };
  }

  /** The verdict follows docs/architecture.md's table; the first matching row wins. */
  decide(): { verdict: Verdict; reason: string } {
    const stuck = this.remaining();
    const failedExpectations = this.phases.flatMap((phase) =>
      (phase.watch?.expectations ?? [])
        .filter(failedOnMeasurement)
        .map((e) => `${phase.name}/${checkName(e)}`),
    );
    // A check that saw too little of its phase cannot have held: the run cannot pass.
    const unseen = undersampled(this.phases);
    if (this.steadyStateBefore === null && this.faults.length === 0 && (this.refused || this.failure)) {
      return { verdict: 'not-started', reason: `nothing was injected: ${this.failure ?? 'refused'}` };
    }
    if (this.steadyStateBefore && !this.steadyStateBefore.ok) {
      const failing = this.steadyStateBefore.probes.filter((p) => !p.ok).map((p) => p.probe);
      return {
        verdict: 'not-started',
        reason: `steady state did not hold before any fault (${failing.join(', ')})`,
      };
    }
    if (stuck.length > 0) {
      return { verdict: 'rollback-failed', reason: `could not undo: ${stuck.map((s) => s.what).join(', ')}` };
    }
    if (this.breach) {
      const b = this.breach;
      return {
        verdict: 'aborted',
        reason: `guardrail ${b.guardrail} breached: ${b.measure} ${b.measured} reached ${b.threshold}`,
      };
    }
    if (this.abort)
      return { verdict: 'aborted', reason: `${this.abort.type} by ${this.abort.by}: ${this.abort.reason}` };
    if (this.failure) return { verdict: 'aborted', reason: this.failure };
    // A plan that misses its RTO or RPO deviates, as a failed expectation does.
    const missed = continuityMisses(this.continuity);
    if (failedExpectations.length > 0 || unseen.length > 0 || missed.length > 0) {
      const reasons = [
        failedExpectations.length ? `phase expectation failed: ${failedExpectations.join(', ')}` : '',
        unseen.length ? `too few samples to hold: ${unseen.join('; ')} (${NEEDED_TEXT})` : '',
        missed.length ? `continuity plan missed: ${missed.join('; ')}` : '',
      ];
      return { verdict: 'deviated', reason: reasons.filter(Boolean).join('; ') };
    }
    if (this.phases.length > 0 && this.steadyStateAfter === null) {
      return { verdict: 'deviated', reason: 'the steady state after rollback could not be checked' };
    }
    if (this.steadyStateAfter && !this.steadyStateAfter.ok) {
      return {
        verdict: 'deviated',
        reason: `steady state did not return within ${this.plan.recovery.withinMs}ms after rollback`,
      };
    }
    return { verdict: 'passed', reason: 'steady state held before, during and after the faults' };
  }

  remaining(): Journal['remaining'] {
    return [
      ...this.faults
        .filter((f) => f.status === 'revert-failed')
        .map((f) => ({
          what: `fault ${f.handle.name}`,
          detail: `${this.describe(f.handle)}; last error: ${f.lastRevertError ?? 'unknown'}`,
        })),
      ...this.rollbackSteps
        .filter((s) => !s.ok)
        .map((s) => ({ what: `rollback step ${s.name}`, detail: s.error ?? 'failed' })),
    ];
  }

  journal(): Journal {
    const info = workflowInfo();
    return {
      version: JOURNAL_VERSION,
      runId: this.plan.runId,
      experiment: {
        ...this.plan.experiment,
        environment: this.plan.environment,
        timeScale: this.plan.timeScale,
      },
      startedAt: this.startedAt,
      endedAt: Date.now(),
      verdict: this.verdict ?? 'aborted',
      reason: this.reason,
      steadyStateBefore: this.steadyStateBefore,
      phases: this.phases,
      faults: this.faults,
      rollbackSteps: this.rollbackSteps,
      steadyStateAfter: this.steadyStateAfter,
      recovery: {
        withinMs: this.plan.recovery.withinMs,
        recoveredAfterMs: this.steadyStateAfter?.recoveredAfterMs ?? null,
      },
      remaining: this.remaining(),
      signals: this.signals,
      notes: this.notes,
      events: this.events,
      ...(this.continuity ? { continuity: this.continuity } : {}),
      environment: {
        gameday: GAMEDAY_VERSION,
        temporal: { namespace: info.namespace, taskQueue: info.taskQueue, workflowId: info.workflowId },
        awsAccount: this.account,
      },
    };
  }
}

/** The fault's real window, for the event log: from seen in place to seen gone. */
function inPlace(fault: FaultRecord): string {
  if (fault.injectedAt === undefined || fault.revertedAt === undefined) return '';
  const at = (ms: number) => new Date(ms).toISOString().slice(11, 23);
  return `; in place ${formatDuration(fault.revertedAt - fault.injectedAt)}, ${at(fault.injectedAt)} to ${at(fault.revertedAt)} UTC`;
}

/** What went wrong, in the words of whoever failed: activity failures wrap the activity's error. */
export function messageOf(error: unknown): string {
  let current: unknown = error;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
