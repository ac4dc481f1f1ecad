/**
 * One game-day run, as docs/architecture.md's lifecycle describes it:
 *
 *   lock → prepare → steady state before → for each phase: record, inject, watch, revert
 *        → (any exit path) roll back everything still in place → extra rollback steps
 *        → steady state after → verdict → journal
 *
 * The workflow only decides; activities act. Rollback and everything after it run in a
 * non-cancellable scope: an abort, a breach, a cancellation or a failure all end up there.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  patched,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type { Injected } from '../activities/inject-fault';
import type { WrittenJournal } from '../activities/journal';
import { formatDuration } from '../src/experiment/duration';
import type { FaultTiming } from '../src/experiment/fault-timing';
import type { PhasePlan } from '../src/experiment/plan';
import { leverText } from '../src/lever/state';
import type { FaultRecord, WatchResult } from '../src/report/journal';
import { failureText } from '../src/report/results';
import { measureRunContinuity } from './continuity';
import { leverEngaged } from './lever';
import { acquireLock, acquireLocks, type HeldLock } from './lock';
import {
  type AbortRequest,
  abortSignal,
  approveUpdate,
  noteUpdate,
  type RunInput,
  type RunResult,
  statusQuery,
} from './messages';
import { Notifier } from './notify';
import { activities, cancellableWatch } from './proxies';
import { messageOf, RunState } from './run-state';

/** How long the end of a run waits for webhooks still being retried; the journal says which. */
const NOTIFY_GRACE_MS = 60_000;

export async function gamedayRun(plan: RunInput): Promise<RunResult> {
  const run = new RunState(plan);
  const experiment = new CancellationScope();
  setHandler(statusQuery, () => run.status());
  setHandler(abortSignal, (request) => {
    // Signals can come from any client (the Temporal UI, its CLI) with any payload; a handler that
    // threw would fail every workflow task from then on and the run could never roll back.
    const { reason, by } = (request ?? {}) as Partial<AbortRequest>;
    run.requestAbort({
      type: 'abort',
      at: Date.now(),
      by: typeof by === 'string' && by ? by : 'unknown',
      reason: typeof reason === 'string' && reason ? reason : 'no reason given',
    });
    experiment.cancel();
  });
  setHandler(approveUpdate, (request) => run.approve(request), {
    validator: (request) => {
      if (typeof request?.by !== 'string' || !request.by) throw new Error('say who approves (by)');
    },
  });
  setHandler(noteUpdate, (request) => run.addNote(request.by, request.text), {
    // A note after the journal is written would be lost: refuse it instead.
    validator: (request) => {
      if (typeof request?.text !== 'string' || !request.text.trim()) throw new Error('a note needs text');
      if (request.text.length > 10_000) throw new Error('a note is at most 10000 characters');
      if (typeof request.by !== 'string' || !request.by) throw new Error('say who writes the note (by)');
      if (run.stage === 'writing-journal' || run.stage === 'finished')
        throw new Error('the run has finished; its journal is written');
    },
  });
  const notifier = new Notifier(run);

  const lock = await acquireLock(plan.experiment.name, plan.runId);
  if (!lock.acquired) return { outcome: 'locked', lockWorkflowId: lock.workflowId };
  run.hold([lock]);

  try {
    await experiment.run(() => runExperiment(run, notifier));
  } catch (error) {
    noteStop(run, error);
  }
  if (run.lockedOutBy) {
    // Another run holds one of our targets; nothing was injected and nothing is written.
    await Promise.all(run.locks.map((held) => held.release()));
    return { outcome: 'locked', lockWorkflowId: run.lockedOutBy };
  }

  return CancellationScope.nonCancellable(() => finish(run, notifier));
}

async function runExperiment(run: RunState, notifier: Notifier): Promise<void> {
  // A run that got past the CLI's check as the safety lever was engaged is stopped here.
  const lever = patched('safety-lever') ? await leverEngaged() : null;
  if (lever)
    return run.requestAbort({ type: 'abort', at: Date.now(), by: lever.by, reason: leverText(lever) });
  run.enter('preparing');
  const { providers, phases, aws, maxBlastRadius } = run.plan;
  const prepared = await activities.prepareRun({ providers, phases, aws, maxBlastRadius });
  run.usePrepared(prepared);
  if (patched('target-locks')) {
    const locks = await acquireLocks(prepared.lockKeys ?? [], run.plan.runId);
    const taken = locks.find((held) => !held.acquired);
    if (taken) {
      run.lockedOutBy = taken.workflowId;
      return;
    }
    run.hold(locks as HeldLock[]);
  }
  notifier.send('run-started', { summary: `started: ${run.plan.phases.length} phase(s)` });

  run.enter('steady-state-before');
  run.steadyStateBefore = await activities.checkSteadyState({
    probes: run.plan.steadyState,
    deadline: Date.now(),
  });
  run.showSteadyState(run.steadyStateBefore);
  if (!run.steadyStateBefore.ok) {
    run.log('steady-state.failed', 'steady state did not hold before any fault; nothing will be injected');
    return;
  }

  for (const [index, phase] of run.plan.phases.entries()) {
    // An abort that arrived while nothing cancellable was running must still stop the next inject.
    if (CancellationScope.current().consideredCancelled)
      throw new CancelledFailure('run aborted before the phase');
    if (phase.gate && !(await passGate(run, notifier, phase, phase.gate))) return;
    const record = run.startPhase(index, phase.durationMs);
    // Faults with a startAfter go in later, on the phase's timeline; the others go in together now.
    const timings = phase.timings?.length && patched('fault-timeline') ? phase.timings : [];
    const startsLate = (name: string) => timings.some((t) => t.fault === name && t.startAfterMs > 0);
    const faults = phase.faults
      .filter((handle) => !startsLate(handle.name))
      .map((handle) => run.record(run.resolved(handle)));
    run.enter('injecting');
    const injects = await injectAll(run, faults);

    // The phase lasts its duration from when its faults are in place: an FIS experiment can take
    // minutes to start, and that wait is not part of the fault. Its timeline counts from there too.
    // Runs recorded before the phase clock read the injects' own moments started it on their return.
    const faultsInPlaceAt = patched('phase-clock-from-injects') ? phaseClock(injects) : Date.now();
    run.watchUntil(faultsInPlaceAt + phase.durationMs);
    const watch = await watchWithTimeline(run, phase, faults, timings, faultsInPlaceAt).finally(() => {
      // An abort cancels the watch: the phase still ended, and the reports need to know when.
      record.endedAt ??= Date.now();
      run.notInjected(record, timings, faults);
    });
    run.endPhase(record, watch);
    if (watch.attempts > 1) {
      run.log(
        'watch.resumed',
        `${phase.name}: watch ran ${watch.attempts} attempts on ${watch.workers.join(', ')}`,
      );
    }
    if (watch.breach) {
      run.breach = watch.breach;
      const what = `${watch.breach.guardrail}: ${watch.breach.measure} ${watch.breach.measured} reached ${watch.breach.threshold}`;
      run.log('guardrail.breached', what);
      notifier.send('guardrail-breach', { phase: phase.name, summary: `guardrail ${what}; rolling back` });
      return;
    }
    // A phase's faults last for the phase; the next phase starts from a clean slate.
    run.enter('reverting-phase');
    await CancellationScope.nonCancellable(() => revertAll(run, faults));
    if (faults.some((fault) => fault.status === 'revert-failed')) {
      run.failure = `the faults of phase ${phase.name} could not be reverted in time; later phases were skipped`;
      return;
    }
  }
}

/**
 * Waits for a person to approve the phase (`gameday approve`), or for the gate's timeout, which
 * aborts the run. An abort while waiting cancels the wait like anything else.
 */
async function passGate(
  run: RunState,
  notifier: Notifier,
  phase: PhasePlan,
  gate: NonNullable<PhasePlan['gate']>,
): Promise<boolean> {
  run.waitForApproval(phase.name, gate.timeoutMs);
  notifier.send('gate-waiting', {
    phase: phase.name,
    summary: `waiting for approval before phase ${phase.name}: gameday approve ${run.plan.runId} (aborts after ${formatDuration(gate.timeoutMs)})`,
  });
  let approved: boolean;
  try {
    approved = await condition(() => run.isApproved(phase.name), gate.timeoutMs);
  } finally {
    run.waiting = null;
  }
  if (approved) {
    // Someone may have waited a long time at the gate: the system must still be healthy before
    // more faults go in.
    run.enter('steady-state-before');
    const check = await activities.checkSteadyState({ probes: run.plan.steadyState, deadline: Date.now() });
    run.showSteadyState(check);
    const failing = check.probes
      .filter((probe) => !probe.ok)
      .map((probe) => `${probe.probe} ${failureText(probe)}`);
    run.log(
      'gate.steady-state',
      check.ok
        ? `held before phase ${phase.name}`
        : `failed before phase ${phase.name}: ${failing.join('; ')}`,
    );
    if (check.ok) return true;
    if (run.phases.length === 0) {
      // Nothing has been injected yet: this is the steady state before any fault, and it failed.
      run.steadyStateBefore = check;
      return false;
    }
    run.failure = `the steady state no longer held after the gate of phase ${phase.name} (${failing.join('; ')}); nothing more was injected`;
    return false;
  }
  run.requestAbort({
    type: 'abort',
    at: Date.now(),
    by: 'gate',
    reason: `nobody approved phase ${phase.name} within ${formatDuration(gate.timeoutMs)}`,
  });
  return false;
}

/**
 * The phase's watch (it follows every fault whose provider can observe it), and beside it the
 * phase's timeline: each fault with a startAfter is recorded and injected at its offset, each with
 * a duration of its own is reverted at its end. The timeline stops with the watch (the phase's
 * end, a breach, an abort) and waits for what it has in flight, so an inject that started has
 * landed, and is in `faults` to be reverted, before anything reverts; a fault whose start was not
 * reached is never recorded, never injected. An inject that fails stops the watch and the run.
 */
async function watchWithTimeline(
  run: RunState,
  phase: PhasePlan,
  faults: FaultRecord[],
  timings: FaultTiming[],
  startedAt: number,
): Promise<WatchResult> {
  const watching = new CancellationScope();
  const timeline = new CancellationScope();
  let failed: unknown = null;
  const lanes = timeline
    .run(() => Promise.all(timings.map((timing) => followFault(run, phase, timing, faults, startedAt))))
    .catch((error) => {
      if (isCancellation(error)) return;
      failed = error;
      watching.cancel();
    });
  const watched = await watching
    .run(() =>
      cancellableWatch(phase).watchPhase({
        phase: phase.name,
        startedAt,
        endsAt: startedAt + phase.durationMs,
        guardrails: run.plan.guardrails,
        expectations: phase.expectations,
        faults: faults.map((f) => f.handle),
      }),
    )
    .then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
  timeline.cancel();
  await lanes;
  if (failed) throw failed;
  if ('error' in watched) throw watched.error;
  return watched.result;
}

/** One timed fault: in at its startAfter (if it did not go in with the phase), out at its own end. */
async function followFault(
  run: RunState,
  phase: PhasePlan,
  timing: FaultTiming,
  faults: FaultRecord[],
  startedAt: number,
): Promise<void> {
  let fault = faults.find((f) => f.handle.name === timing.fault);
  const planned = phase.faults.find((handle) => handle.name === timing.fault);
  if (!fault && planned) {
    await sleepUntil(startedAt + timing.startAfterMs);
    run.enter('injecting');
    fault = run.record(run.resolved(planned));
    faults.push(fault);
    await injectAll(run, [fault]);
    run.enter('watching');
  }
  if (!fault || timing.durationMs === null) return;
  await sleepUntil(startedAt + timing.startAfterMs + timing.durationMs);
  const ending = fault;
  await CancellationScope.nonCancellable(() => revertAll(run, [ending]));
}

/** A timer to a moment of the run; throws when the scope is cancelled, even if the moment is past. */
async function sleepUntil(at: number): Promise<void> {
  if (at > Date.now()) await sleep(at - Date.now());
  if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('the phase ended first');
}

/**
 * When a phase's faults were in place: when the last of them took effect, as each inject saw it
 * (an FIS experiment running, instances stopped). An inject retried after its worker died counts
 * only when every one was: the seconds Temporal took to notice the dead worker would otherwise keep
 * every other fault of the phase in that much longer than planned (it stays its planned time; the
 * retried one is in for less, and the journal's injectedAt says so).
 */
function phaseClock(injects: Injected[]): number {
  const firstTries = injects.filter((inject) => !inject.retried).map((inject) => inject.injectedAt);
  const retries = injects.map((inject) => inject.injectedAt);
  const inPlaceAt = firstTries.length ? Math.max(...firstTries) : Math.min(...retries);
  // Nothing went in with the phase (every fault starts later): it starts now. Nor is it ever later
  // than now, whatever the worker's clock said.
  return injects.length ? Math.min(inPlaceAt, Date.now()) : Date.now();
}

/**
 * Injects a phase's faults together. Injects are not cancellable: an abort waits for them, so a
 * revert can never run before an inject still in flight lands behind it.
 */
async function injectAll(run: RunState, faults: FaultRecord[]): Promise<Injected[]> {
  const results = await CancellationScope.nonCancellable(() =>
    Promise.allSettled(
      faults.map(async (fault) => {
        try {
          const injected = await activities.injectFault(fault.handle);
          run.injected(fault, injected);
          return injected;
        } catch (error) {
          run.injectFailed(fault, messageOf(error));
          throw error;
        }
      }),
    ),
  );
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
}

/**
 * Reverts faults until each is gone or the rollback timeout passes, retrying with capped backoff.
 * A phase's faults went in together and come out together: each is reverted in parallel, on its
 * own retry loop, so one stuck provider holds back no other. Faults of different phases (still
 * there after a failed phase rollback) come out newest phase first, undoing them in the reverse
 * of the order they went in.
 */
async function revertAll(run: RunState, faults: FaultRecord[]): Promise<void> {
  if (!patched('parallel-reverts')) return revertOneByOne(run, faults);
  const giveUpAt = Date.now() + run.plan.rollbackTimeoutMs;
  const pending = run.unreverted(faults);
  for (const phase of [...new Set(pending.map((fault) => fault.handle.phase))]) {
    const together = pending.filter((fault) => fault.handle.phase === phase);
    await Promise.all(together.map((fault) => revertUntilGone(run, fault, giveUpAt)));
  }
  if (run.unreverted(faults).length > 0)
    run.log('rollback.gave-up', `after ${run.plan.rollbackTimeoutMs}ms of retries`);
}

/** Tries at least once, even past the deadline: a fault never goes unattempted. */
async function revertUntilGone(run: RunState, fault: FaultRecord, giveUpAt: number): Promise<void> {
  let backoffMs = 200;
  while (!(await revertOnce(run, fault))) {
    if (Date.now() >= giveUpAt) {
      run.gaveUp(fault);
      return;
    }
    await sleep(backoffMs);
    backoffMs = Math.min(backoffMs * 2, 5_000);
  }
}

/** Runs recorded before reverts went in parallel: rounds of one revert after another, newest first. */
async function revertOneByOne(run: RunState, faults: FaultRecord[]): Promise<void> {
  const giveUpAt = Date.now() + run.plan.rollbackTimeoutMs;
  let backoffMs = 200;
  for (let pending = run.unreverted(faults); pending.length > 0; pending = run.unreverted(faults)) {
    for (const fault of pending) await revertOnce(run, fault);
    if (run.unreverted(faults).length === 0) return;
    if (Date.now() >= giveUpAt) {
      for (const fault of run.unreverted(faults)) run.gaveUp(fault);
      run.log('rollback.gave-up', `after ${run.plan.rollbackTimeoutMs}ms of retries`);
      return;
    }
    await sleep(backoffMs);
    backoffMs = Math.min(backoffMs * 2, 5_000);
  }
}

/** One revert call; whether the fault is gone. */
async function revertOnce(run: RunState, fault: FaultRecord): Promise<boolean> {
  run.reverting(fault);
  try {
    run.reverted(fault, await activities.revertFault(fault.handle));
    return true;
  } catch (error) {
    run.revertFailed(fault, messageOf(error));
    return false;
  }
}

async function runRollbackSteps(run: RunState): Promise<void> {
  for (const step of run.plan.rollback) {
    const giveUpAt = Date.now() + run.plan.rollbackTimeoutMs;
    let attempts = 0;
    let backoffMs = 200;
    for (;;) {
      attempts++;
      try {
        const { at } = await activities.runRollbackStep(step);
        run.rollbackSteps.push({ name: step.name, ok: true, attempts, at });
        break;
      } catch (error) {
        if (Date.now() >= giveUpAt) {
          run.rollbackSteps.push({
            name: step.name,
            ok: false,
            attempts,
            at: Date.now(),
            error: messageOf(error),
          });
          break;
        }
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    }
  }
}

async function finish(run: RunState, notifier: Notifier): Promise<RunResult> {
  run.enter('rolling-back');
  await revertAll(run, run.faults);
  // Said at once, not after the steady-state check: someone has to go and remove it by hand.
  const stuck = run.unreverted().map((fault) => fault.handle.name);
  if (stuck.length > 0)
    notifier.send('rollback-failed', { summary: `ROLLBACK FAILED, STILL INJECTED: ${stuck.join(', ')}` });
  if (run.plan.rollback.length > 0 && run.phases.length > 0) {
    run.enter('rollback-steps');
    await runRollbackSteps(run);
  }

  if (run.phases.length > 0) {
    run.enter('steady-state-after');
    const rolledBackAt = run.rolledBackAt();
    try {
      run.steadyStateAfter = await activities.checkSteadyState({
        probes: run.plan.steadyState,
        deadline: rolledBackAt + run.plan.recovery.withinMs,
        since: rolledBackAt,
      });
      run.showSteadyState(run.steadyStateAfter);
    } catch (error) {
      run.log('steady-state.error', messageOf(error));
    }
  }
  await measureRunContinuity(run);

  const { verdict, reason } = run.decide();
  run.verdict = verdict;
  run.reason = reason;
  run.log('verdict', `${verdict}: ${reason}`);
  if (verdict === 'aborted') notifier.send('aborted', { verdict, reason, summary: `aborted: ${reason}` });
  if (verdict === 'rollback-failed' && stuck.length === 0)
    notifier.send('rollback-failed', { verdict, reason, summary: `ROLLBACK FAILED: ${reason}` });
  notifier.send('finished', { verdict, reason, summary: `${verdict}: ${reason}` });
  await notifier.drained(NOTIFY_GRACE_MS);

  run.enter('writing-journal');
  const journal = run.journal();
  let written: WrittenJournal | null = null;
  try {
    written = await activities.writeJournal({ outDir: run.plan.outDir, journal, formats: run.plan.reports });
  } catch (error) {
    // The journal still travels in the result; the CLI writes it when the worker could not.
    run.log('journal.error', messageOf(error));
  }
  run.enter('finished');
  await Promise.all(run.locks.map((held) => held.release()));
  return {
    outcome: 'finished',
    verdict,
    reason,
    refused: run.refused,
    journalPath: written?.journalPath ?? null,
    reportPath: written?.reportPath ?? null,
    reports: written?.reports ?? {},
    journal: run.journal(),
  };
}

/** Why the experiment stopped before its end, for the verdict and the journal. */
function noteStop(run: RunState, error: unknown): void {
  if (isCancellation(error)) {
    if (!run.abort)
      run.requestAbort({ type: 'cancel', at: Date.now(), by: 'temporal', reason: 'workflow cancelled' });
    return;
  }
  const cause = error instanceof ActivityFailure ? error.cause : error;
  const type = cause instanceof ApplicationFailure ? cause.type : undefined;
  // The two failure kinds every provider fails with (src/providers/fault-provider.ts): refused,
  // nothing changed (exit 64); unavailable, a service did not answer through the retries (exit 69).
  if (run.stage === 'preparing' && type) {
    if (type === 'Unavailable') run.refused = 'unavailable';
    if (type === 'Refused') run.refused = 'invalid-target';
  }
  run.failure = `${run.stage} failed: ${messageOf(error)}`;
  run.log('run.failed', run.failure);
}
