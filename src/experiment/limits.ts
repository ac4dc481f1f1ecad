/**
 * The longest waits a run holds, refused by `validate` past them. Node's timers fire at once when
 * asked to wait more than 2^31-1 ms (24.8 days), and every Temporal timeout a run sets is derived
 * from the file's durations; 7 days keeps every such timer far inside what both can hold, and a
 * fault meant to stay longer than a week is a change to make as one, not a game day.
 */
import { DURATION_PATTERN, formatDuration, parseDuration } from './duration';

/** A phase, duration × timeScale: how long its faults stay in place. */
export const LONGEST_PHASE_MS = 7 * 24 * 3_600_000;
/** Any other duration in a file (a gate, a timeout, a sampling interval, a wait). */
export const LONGEST_WAIT_MS = LONGEST_PHASE_MS;
/** One steady-state check of a probe, `every` × `count`. */
export const LONGEST_CHECK_MS = LONGEST_PHASE_MS;

export const WAIT_LIMIT_MESSAGE = `at most ${formatDuration(LONGEST_WAIT_MS)} (7 days): a run holds no longer wait`;

export function withinWaitLimit(text: string): boolean {
  return !DURATION_PATTERN.test(text) || parseDuration(text) <= LONGEST_WAIT_MS;
}

interface LimitIssue {
  path: (string | number)[];
  message: string;
}

type Raw = Record<string, unknown>;
const isObject = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const durationOf = (value: unknown): number | null =>
  typeof value === 'string' && DURATION_PATTERN.test(value) ? parseDuration(value) : null;

/** Phases and steady-state checks longer than a run holds, on the raw parsed file. */
export function limitIssues(data: Raw): LimitIssue[] {
  const issues: LimitIssue[] = [];
  const timeScale = typeof data.timeScale === 'number' && data.timeScale > 0 ? data.timeScale : 1;
  list(data.phases).forEach((phase, i) => {
    if (!isObject(phase)) return;
    const written = durationOf(phase.duration);
    if (written === null || written * timeScale <= LONGEST_PHASE_MS) return;
    const scaled =
      timeScale === 1 ? '' : ` × timeScale ${timeScale} = ${formatDuration(written * timeScale)}`;
    issues.push({
      path: ['phases', i, 'duration'],
      message: `${phase.duration}${scaled} is longer than the longest phase a run holds, ${formatDuration(LONGEST_PHASE_MS)} (7 days)`,
    });
  });
  list(data.steadyState).forEach((probe, i) => {
    if (!isObject(probe) || !isObject(probe.sample)) return;
    const every = durationOf(probe.sample.every);
    const count = probe.sample.count;
    if (every === null || typeof count !== 'number' || every * count <= LONGEST_CHECK_MS) return;
    issues.push({
      path: ['steadyState', i, 'sample'],
      message: `every ${probe.sample.every} × count ${count} is longer than the longest steady-state check a run holds, ${formatDuration(LONGEST_CHECK_MS)} (7 days)`,
    });
  });
  return issues;
}
