/**
 * How the workflow calls activities. Timeouts are short where a dead worker must be noticed fast:
 * long activities heartbeat, and a missed heartbeat moves them to another worker.
 */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** A worker that stops heartbeating for this long is presumed dead. */
export const HEARTBEAT_TIMEOUT = '3s';

const quick = proxyActivities<Pick<Activities, 'prepareRun' | 'injectFault' | 'writeJournal'>>({
  startToCloseTimeout: '15s',
  retry: {
    initialInterval: '200ms',
    backoffCoefficient: 2,
    maximumInterval: '2s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['ToxiproxyRefused', 'ProxyMismatch', 'TargetMissing'],
  },
});

// One attempt per call: the workflow's own retry loop decides, and reports each attempt in status.
const once = proxyActivities<Pick<Activities, 'revertFault' | 'runRollbackStep'>>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 1 },
});

const observing = proxyActivities<Pick<Activities, 'checkSteadyState'>>({
  startToCloseTimeout: '1h',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '200ms', maximumInterval: '2s', maximumAttempts: 20 },
});

// proxyActivities returns a Proxy with no own keys, so the activities are picked by name.
export const activities = {
  prepareRun: quick.prepareRun,
  injectFault: quick.injectFault,
  writeJournal: quick.writeJournal,
  revertFault: once.revertFault,
  runRollbackStep: once.runRollbackStep,
  checkSteadyState: observing.checkSteadyState,
};

/** The phase watch returns at once when the run is aborted: it only observes, nothing to wait for. */
export const cancellableWatch = proxyActivities<Pick<Activities, 'watchPhase'>>({
  startToCloseTimeout: '13h',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: { initialInterval: '200ms', maximumInterval: '2s', maximumAttempts: 50 },
});
