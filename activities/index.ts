/** Every activity the gameday worker registers. Activities are plain async functions. */
import { injectFault } from './inject-fault';
import { writeJournal } from './journal';
import { sendNotification } from './notify';
import { planScheduledRun } from './plan-scheduled';
import { prepareRun } from './prepare';
import { readBackWrites } from './read-back-writes';
import { revertFault } from './revert-fault';
import { runRollbackStep } from './rollback-step';
import { checkSteadyState } from './steady-state';
import { watchPhase } from './watch';

export const activities = {
  prepareRun,
  checkSteadyState,
  injectFault,
  watchPhase,
  revertFault,
  runRollbackStep,
  writeJournal,
  planScheduledRun,
  sendNotification,
  readBackWrites,
};

export type Activities = typeof activities;
