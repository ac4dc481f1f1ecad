/**
 * Faults on a timeline (README "Fault timelines"; docs/architecture.md, "Run lifecycle"): a fault
 * may start `startAfter` into its phase and stay for a `duration` of its own, as FIS actions do,
 * so faults of one phase overlap as they did on October 20. Both are scaled by timeScale like the
 * phase. This file holds the rules on the raw file (reported with `file:line:col`) and the plan's
 * schedule; the workflow follows the schedule.
 */
import { DURATION_PATTERN, formatDuration, parseDuration } from './duration';
import { isObject, list, type Raw, type RawIssue } from './raw';

/** When a fault goes in and comes out, in ms from the phase's start (scaled by timeScale). */
export interface FaultTiming {
  fault: string;
  startAfterMs: number;
  /** null: until the phase ends. */
  durationMs: number | null;
}

/** The window an expectation is judged over (`during: <fault>`), in ms from the phase's start. */
export interface ExpectationWindow {
  during: string;
  fromMs: number;
  toMs: number;
}

const durationOf = (value: unknown): number | null =>
  typeof value === 'string' && DURATION_PATTERN.test(value) ? parseDuration(value) : null;

/**
 * startAfter and duration inside the phase, a duration above zero, and `during` naming a fault of
 * the same phase. Judged on the durations as written: timeScale scales all three alike.
 */
export function timingIssues(data: Raw): RawIssue[] {
  const issues: RawIssue[] = [];
  list(data.phases).forEach((phase, p) => {
    if (!isObject(phase)) return;
    const phaseMs = durationOf(phase.duration);
    const faultNames = new Set<string>();
    list(phase.faults).forEach((fault, f) => {
      if (!isObject(fault)) return;
      if (typeof fault.name === 'string') faultNames.add(fault.name);
      const path = ['phases', p, 'faults', f];
      const startAfter = durationOf(fault.startAfter) ?? 0;
      const duration = durationOf(fault.duration);
      if (duration === 0)
        issues.push({ path: [...path, 'duration'], message: 'a fault lasts longer than 0s' });
      if (phaseMs === null) return;
      if (startAfter >= phaseMs) {
        issues.push({
          path: [...path, 'startAfter'],
          message: `startAfter ${fault.startAfter} is not inside the phase (duration ${phase.duration}): the fault would never start`,
        });
      } else if (duration !== null && startAfter + duration > phaseMs) {
        issues.push({
          path: [...path, 'duration'],
          message: `startAfter ${fault.startAfter ?? '0s'} + duration ${fault.duration} = ${formatDuration(startAfter + duration)} ends after the phase (duration ${phase.duration})`,
        });
      }
    });
    list(phase.expect).forEach((expectation, e) => {
      if (!isObject(expectation) || typeof expectation.during !== 'string') return;
      if (faultNames.has(expectation.during)) return;
      issues.push({
        path: ['phases', p, 'expect', e, 'during'],
        message: `no fault of phase ${String(phase.name)} is named "${expectation.during}" (its faults: ${[...faultNames].join(', ') || 'none'})`,
      });
    });
  });
  return issues;
}

interface TimedFault {
  name: string;
  startAfter?: string;
  duration?: string;
}

/** The faults that do not simply last the whole phase, scaled; empty when none. */
export function faultTimings(faults: TimedFault[], timeScale: number): FaultTiming[] {
  const scaled = (text: string) => Math.max(1, Math.round(parseDuration(text) * timeScale));
  return faults
    .filter((fault) => fault.startAfter !== undefined || fault.duration !== undefined)
    .map((fault) => ({
      fault: fault.name,
      startAfterMs:
        fault.startAfter === undefined ? 0 : Math.round(parseDuration(fault.startAfter) * timeScale),
      durationMs: fault.duration === undefined ? null : scaled(fault.duration),
    }));
}

/** The stretch of the phase in which a fault is planned to be in place. */
export function faultWindow(fault: string, timings: FaultTiming[], phaseMs: number): ExpectationWindow {
  const timing = timings.find((t) => t.fault === fault);
  const fromMs = timing?.startAfterMs ?? 0;
  const toMs = timing?.durationMs == null ? phaseMs : Math.min(phaseMs, fromMs + timing.durationMs);
  return { during: fault, fromMs, toMs };
}
