/** Faults on a timeline: what a file may say about startAfter, duration and `during`, and the plan it makes. */
import { describe, expect, it } from 'vitest';
import { ExperimentError, formatIssue, parseExperiment } from '../../src/experiment/load';
import { planRun } from '../../src/experiment/plan';

const head = `version: 1
name: timeline
description: d
target: { environment: local }
timeScale: 0.5
steadyState:
  - name: ok
    http: { url: http://127.0.0.1:9/ }
phases:
  - name: p
    duration: 2m
    faults:
      - { name: whole, toxiproxy: { proxy: x, down: true } }
`;

function problems(source: string): string[] {
  try {
    parseExperiment(source, 'e.yaml');
  } catch (error) {
    if (error instanceof ExperimentError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

const late = (timing: string, expect = '') =>
  `${head}      - { name: late, ${timing}, toxiproxy: { proxy: x, toxic: latency, attributes: { latency: 9 } } }\n${expect}`;

describe('fault timings in a file', () => {
  it('accepts a fault that starts late and ends early inside its phase, and one that runs to its end', () => {
    expect(problems(late('startAfter: 30s, duration: 1m'))).toEqual([]);
    expect(problems(late('startAfter: 1m'))).toEqual([]);
    expect(problems(late('duration: 2m'))).toEqual([]);
  });

  it('refuses a start at or past the phase end, at the startAfter key', () => {
    expect(problems(late('startAfter: 2m'))).toEqual([
      'e.yaml:14:35  phases[0].faults[1].startAfter  startAfter 2m is not inside the phase (duration 2m): the fault would never start',
    ]);
  });

  it('refuses a fault that would outlast its phase, saying where it ends', () => {
    expect(problems(late('startAfter: 1m30s, duration: 1m'))).toEqual([
      'e.yaml:14:52  phases[0].faults[1].duration  startAfter 1m30s + duration 1m = 2m30s ends after the phase (duration 2m)',
    ]);
    expect(problems(late('duration: 0s'))).toEqual([
      'e.yaml:14:33  phases[0].faults[1].duration  a fault lasts longer than 0s',
    ]);
  });

  it('refuses a malformed startAfter like any duration', () => {
    expect(problems(late('startAfter: soon'))).toEqual([
      'e.yaml:14:35  phases[0].faults[1].startAfter  a duration like 250ms, 30s, 5m, 1h or 2h52m',
    ]);
  });

  it('refuses an expectation during a fault that is not in its phase', () => {
    const source = late(
      'startAfter: 30s',
      '    expect:\n      - { probe: ok, during: elsewhere, expect: { errorRate: 0 } }\n',
    );
    expect(problems(source)).toEqual([
      'e.yaml:16:30  phases[0].expect[0].during  no fault of phase p is named "elsewhere" (its faults: whole, late)',
    ]);
  });

  it('plans the timings scaled by timeScale, and an expectation over its fault’s window', () => {
    const source = late(
      'startAfter: 30s, duration: 1m',
      '    expect:\n      - { probe: ok, during: late, expect: { errorRate: 0 } }\n      - { probe: ok, expect: { errorRate: 0 } }\n',
    );
    const plan = planRun(parseExperiment(source, 'e.yaml'), {
      runId: 'r1',
      file: 'e.yaml',
      sha256: 'x',
      outDir: '/tmp/x',
      env: {},
    });
    const phase = plan.phases[0];
    expect(phase?.durationMs).toBe(60_000);
    expect(phase?.timings).toEqual([{ fault: 'late', startAfterMs: 15_000, durationMs: 30_000 }]);
    expect(phase?.expectations.map((e) => e.window)).toEqual([
      { during: 'late', fromMs: 15_000, toMs: 45_000 },
      undefined,
    ]);
  });

  it('leaves the plan of a phase without timings as it was: no timings key', () => {
    const plan = planRun(parseExperiment(head, 'e.yaml'), {
      runId: 'r1',
      file: 'e.yaml',
      sha256: 'x',
      outDir: '/tmp/x',
      env: {},
    });
    expect(Object.keys(plan.phases[0] ?? {})).not.toContain('timings');
  });
});
