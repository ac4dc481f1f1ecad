/**
 * How hard an experiment file may make its probes work: how often one probe may be sampled (the
 * floor), and how many requests a second a run's probes may send together (the rate limit).
 * Both are checked by `validate` (and so by `plan`, `run` and `schedule create`): the file is the
 * experiment as its author wrote it, so it is refused rather than silently sampled less often.
 */
import type { RawIssue } from './checks';
import { DURATION_PATTERN, parseDuration } from './duration';
import { Duration } from './primitives';

/**
 * The shortest interval between two samples of one probe. A Node worker's timers slip by a few
 * milliseconds under load, so below this the schedule is mostly noise; and it buys nothing: a
 * guardrail at 20ms with `consecutiveFailures: 3` decides within 60ms, sooner than a revert takes.
 */
export const SAMPLING_FLOOR_MS = 20;

/** Default and ceiling of `settings.maxProbeRate`, in requests a second. */
export const PROBE_RATE_DEFAULT = 100;
export const MAX_PROBE_RATE = 200;

/** Probes sampled at once in one window (each list: steady state, guardrails, a phase's expectations). */
export const MAX_PROBES = 50;
export const PROBES_MESSAGE = `at most ${MAX_PROBES}: a worker holds each one's samples in memory while it watches`;

const DEFAULT_EVERY = '500ms';

export const SamplingInterval = Duration.refine(
  (text) => !DURATION_PATTERN.test(text) || parseDuration(text) >= SAMPLING_FLOOR_MS,
  `at least ${SAMPLING_FLOOR_MS}ms between samples: a worker's timers are not steadier than that, and a guardrail decides within a few samples anyway`,
);

type Raw = Record<string, unknown>;
const isObject = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Requests a second of a probe sampled `every` apart; unreadable intervals are reported elsewhere. */
function rateOf(every: unknown): number {
  if (typeof every !== 'string' || !DURATION_PATTERN.test(every)) return 0;
  const ms = parseDuration(every);
  return ms > 0 ? 1_000 / ms : 0;
}

/**
 * Every window in which probes sample at the same time (the steady-state check, each phase's
 * guardrails and expectations together), against `settings.maxProbeRate`.
 */
export function probeRateIssues(data: Raw): RawIssue[] {
  const settings = isObject(data.settings) ? data.settings : {};
  const limit = typeof settings.maxProbeRate === 'number' ? settings.maxProbeRate : PROBE_RATE_DEFAULT;
  const everyOf = new Map<string, unknown>();
  let steadyState = 0;
  for (const probe of list(data.steadyState)) {
    if (!isObject(probe)) continue;
    const every = isObject(probe.sample) ? probe.sample.every : DEFAULT_EVERY;
    if (typeof probe.name === 'string') everyOf.set(probe.name, every);
    steadyState += rateOf(every);
  }
  const guardrails = list(data.guardrails).reduce<number>(
    (sum, guardrail) => sum + (isObject(guardrail) ? rateOf(guardrail.every) : 0),
    0,
  );

  const issues: RawIssue[] = [];
  const tooMuch = (path: (string | number)[], rate: number, parts: string) => {
    if (rate <= limit + 1e-9) return;
    issues.push({
      path,
      message: `would send ${round(rate)} probe requests a second (${parts}), above settings.maxProbeRate ${limit}: sample less often, or raise settings.maxProbeRate (at most ${MAX_PROBE_RATE}) if the target and the worker can take it`,
    });
  };
  tooMuch(['steadyState'], steadyState, 'the steady-state probes together');
  list(data.phases).forEach((phase, p) => {
    if (!isObject(phase)) return;
    const expectations = list(phase.expect).reduce<number>((sum, expectation) => {
      if (!isObject(expectation)) return sum;
      const every = expectation.every ?? everyOf.get(String(expectation.probe)) ?? DEFAULT_EVERY;
      return sum + rateOf(every);
    }, 0);
    tooMuch(
      ['phases', p],
      guardrails + expectations,
      `guardrails ${round(guardrails)}, expectations ${round(expectations)}`,
    );
  });
  return issues;
}

const round = (value: number) => Math.round(value * 10) / 10;
