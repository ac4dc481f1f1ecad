import { TASK_QUEUE } from '../../workflows/messages';

/** The task queue runs and workers meet on; GAMEDAY_TASK_QUEUE keeps separate fleets (or tests) apart. */
export function taskQueue(): string {
  return process.env.GAMEDAY_TASK_QUEUE || TASK_QUEUE;
}
