/** The workflows the gameday worker runs; the worker bundles this file. */
export { gamedayRun } from './gameday-run';
export { safetyLever } from './lever';
export { runLock } from './lock';
export { scheduledGameday } from './scheduled-run';
