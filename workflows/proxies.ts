/**
 * How the workflow calls activities. Timeouts are short where a dead worker must be noticed fast:
 * long activities heartbeat, and a missed heartbeat moves them to another worker.
 */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** A worker that stops heartbeating for this long is presumed dead. */
export const HEARTBEAT_TIMEOUT = '3s';

const retryQuickly = {
  initialInterval: '200ms',
  backoffCoefficient: 2,
  maximumInterval: '2s',
  maximumAttempts: 5,
  nonRetryableErrorTypes: ['ToxiproxyRefused', 'ProxyMismatch', 'TargetMissing'],
};

// An inject is waited for even when the run is aborted, so a revert never runs ahead of it. AWS
// injects wait minutes for instances to stop or an experiment to start, heartbeating meanwhile.
const injecting = proxyActivities<Pick<Activities, 'injectFault'>>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '10s',
  retry: retryQuickly,
});

// Preparing only reads and creates proxies: an abort need not wait for it.
const preparing = proxyActivities<Pick<Activities, 'prepareRun' | 'writeJournal'>>({
  startToCloseTimeout: '15s',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: retryQuickly,
});

// One attempt per call: the workflow's own retry loop decides, and reports each attempt in status.
// A revert may wait minutes (instances starting, an experiment stopping), heartbeating meanwhile.
const reverting = proxyActivities<Pick<Activities, 'revertFault'>>({
  startToCloseTimeout: '15m',
  heartbeatTimeout: '10s',
  retry: { maximumAttempts: 1 },
});
const once = proxyActivities<Pick<Activities, 'runRollbackStep'>>({
  startToCloseTimeout: '5m',
  retry: { maximumAttempts: 1 },
});

// The steady-state check only observes: an abort stops waiting for it at once, so no fault is
// injected after an abort that arrived during the check.
const observing = proxyActivities<Pick<Activities, 'checkSteadyState'>>({
  startToCloseTimeout: '1h',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '200ms', maximumInterval: '2s', maximumAttempts: 20 },
});

// A webhook is told a few times, briefly: a dead one must not hold the run's end for long.
const notifying = proxyActivities<Pick<Activities, 'sendNotification'>>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumAttempts: 3 },
});

// proxyActivities returns a Proxy with no own keys, so the activities are picked by name.
export const activities = {
  prepareRun: preparing.prepareRun,
  injectFault: injecting.injectFault,
  writeJournal: preparing.writeJournal,
  revertFault: reverting.revertFault,
  runRollbackStep: once.runRollbackStep,
  checkSteadyState: observing.checkSteadyState,
  sendNotification: notifying.sendNotification,
};

/** The phase watch returns at once when the run is aborted: it only observes, nothing to wait for. */
export const cancellableWatch = proxyActivities<Pick<Activities, 'watchPhase'>>({
  startToCloseTimeout: '13h',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: { initialInterval: '200ms', maximumInterval: '2s', maximumAttempts: 50 },
});
