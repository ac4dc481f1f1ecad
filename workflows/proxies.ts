/**
 * How the workflow calls activities. Timeouts are short where a dead worker must be noticed fast:
 * long activities heartbeat, and a missed heartbeat moves them to another worker. Timeouts that
 * depend on the file (a phase, a waitFor, recovery.within) are set per call from the plan, so a
 * legal file never outlasts its activity's timeout.
 */
import { ActivityCancellationType, type ActivityOptions, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PhasePlan, ProbePlan } from '../src/experiment/plan';
import type { FaultHandle } from '../src/providers';

/**
 * A worker that stops heartbeating for this long is presumed dead, for inject, revert and the
 * watch alike: with another worker polling, a killed worker's faults are back in hand this long
 * after its last heartbeat (the worker options send one at least every 250ms).
 */
export const HEARTBEAT_TIMEOUT = '3s';

/** Slack on top of what a call is planned to take: summaries, a slow AWS answer, a busy worker. */
const SLACK_MS = 10 * 60_000;

const retryQuickly = {
  initialInterval: '200ms',
  backoffCoefficient: 2,
  maximumInterval: '2s',
  maximumAttempts: 5,
};

// An inject is waited for even when the run is aborted, so a revert never runs ahead of it. AWS
// injects wait up to the fault's waitFor for instances to stop or an experiment to start,
// heartbeating meanwhile.
const injectOptions: ActivityOptions = {
  startToCloseTimeout: '15m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { ...retryQuickly, initialInterval: '100ms' },
};

// Preparing only reads and creates proxies: an abort need not wait for it.
const preparing = proxyActivities<Pick<Activities, 'prepareRun' | 'writeJournal'>>({
  startToCloseTimeout: '15s',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: retryQuickly,
});

// The workflow's own retry loop decides when a revert has failed, and reports each call in
// status. Temporal retries once by itself, at once: an attempt lost with its worker (heartbeat
// timeout) goes to another worker without waiting for a workflow task.
const revertOptions: ActivityOptions = {
  startToCloseTimeout: '15m',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '100ms', maximumAttempts: 2 },
};
const once = proxyActivities<Pick<Activities, 'runRollbackStep'>>({
  startToCloseTimeout: '5m',
  retry: { maximumAttempts: 1 },
});

// The steady-state check only observes: an abort stops waiting for it at once, so no fault is
// injected after an abort that arrived during the check.
const observeOptions: ActivityOptions = {
  startToCloseTimeout: '1h',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '200ms', maximumInterval: '2s', maximumAttempts: 20 },
};

// A webhook is told a few times, briefly: a dead one must not hold the run's end for long.
const notifying = proxyActivities<Pick<Activities, 'sendNotification'>>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumAttempts: 3 },
});

/**
 * How long a fault's inject or revert may take: what its handle says it may wait for (an EC2
 * instance to stop, an FIS experiment to start), and slack.
 */
function faultCallOptions(base: ActivityOptions, handle: FaultHandle): ActivityOptions {
  const body = (handle as unknown as Record<string, { waitForMs?: unknown } | undefined>)[handle.provider];
  const waitForMs = typeof body?.waitForMs === 'number' ? body.waitForMs : 0;
  return { ...base, startToCloseTimeout: Math.max(15 * 60_000, waitForMs + SLACK_MS) };
}

/** One steady-state check of every probe, then as many more as fit before `deadline`. */
function checkOptions(probes: ProbePlan[], untilDeadlineMs: number): ActivityOptions {
  const longestCheck = Math.max(
    0,
    ...probes.map((probe) => probe.sample.everyMs * probe.sample.count + requestTimeoutMs(probe)),
  );
  return {
    ...observeOptions,
    startToCloseTimeout: Math.max(60 * 60_000, untilDeadlineMs + longestCheck + SLACK_MS),
  };
}

/** The longest request timeout in the probe's kind plan (whatever its kind, and in plans of either shape). */
const requestTimeoutMs = (probe: ProbePlan) =>
  Math.max(
    0,
    ...Object.values(probe).map((part) =>
      typeof (part as { timeoutMs?: unknown } | null)?.timeoutMs === 'number'
        ? (part as { timeoutMs: number }).timeoutMs
        : 0,
    ),
  );

// The continuity read-back reads each acknowledged write once or a few times: a few thousand reads.
const readingBack = proxyActivities<Pick<Activities, 'readBackWrites'>>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '5s', maximumAttempts: 3 },
});

// proxyActivities returns a Proxy with no own keys, so the activities are picked by name.
export const activities = {
  prepareRun: preparing.prepareRun,
  injectFault: (handle: FaultHandle) =>
    proxyActivities<Pick<Activities, 'injectFault'>>(faultCallOptions(injectOptions, handle)).injectFault(
      handle,
    ),
  writeJournal: preparing.writeJournal,
  revertFault: (handle: FaultHandle) =>
    proxyActivities<Pick<Activities, 'revertFault'>>(faultCallOptions(revertOptions, handle)).revertFault(
      handle,
    ),
  runRollbackStep: once.runRollbackStep,
  checkSteadyState: (input: Parameters<Activities['checkSteadyState']>[0]) =>
    proxyActivities<Pick<Activities, 'checkSteadyState'>>(
      checkOptions(input.probes, Math.max(0, input.deadline - Date.now())),
    ).checkSteadyState(input),
  sendNotification: notifying.sendNotification,
  readBackWrites: readingBack.readBackWrites,
};

/**
 * The phase watch returns at once when the run is aborted: it only observes, nothing to wait for.
 * Each attempt ends at the phase's end, so one attempt is timed by the phase.
 */
export function cancellableWatch(phase: PhasePlan) {
  return proxyActivities<Pick<Activities, 'watchPhase'>>({
    startToCloseTimeout: phase.durationMs + SLACK_MS,
    heartbeatTimeout: HEARTBEAT_TIMEOUT,
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: { initialInterval: '100ms', maximumInterval: '2s', maximumAttempts: 50 },
  });
}
