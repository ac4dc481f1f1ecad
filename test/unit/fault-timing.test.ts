/** Faults on a timeline: what a file may say about startAfter, duration and `during`, and the plan it makes. */
import { describe, expect, it } from 'vitest';
import { describePlan } from '../../src/cli/plan';
import { ExperimentError, formatIssue, parseExperiment } from '../../src/experiment/load';
import { planRun } from '../../src/experiment/plan';
import { renderHtml } from '../../src/report/html';
import { Journal } from '../../src/report/journal';
import { renderMarkdown } from '../../src/report/markdown';
import { faultWindowRows } from '../../src/report/timeline';

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

  it('says in `gameday plan` when each timed fault is in place and which window an expectation judges', async () => {
    const source = late(
      'startAfter: 30s, duration: 1m',
      '    expect:\n      - { probe: ok, during: late, expect: { errorRate: 0 } }\n',
    ).replace(
      'target: { environment: local }',
      'target: { environment: local }\nsettings: { toxiproxy: { url: "http://127.0.0.1:1" } }',
    );
    const plan = planRun(parseExperiment(source, 'e.yaml'), {
      runId: 'r1',
      file: 'e.yaml',
      sha256: 'x',
      outDir: '/tmp/x',
      env: {},
    });
    const text = await describePlan(plan, null);
    expect(text).toContain('late: add toxic gameday.r1.late to proxy x');
    expect(text).toContain('\n       in place from +15s to +45s of the phase\n');
    expect(text).toContain('expect ok during late: {"errorRate":0}');
    expect(text.match(/in place from/g)).toHaveLength(1);
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

describe('fault windows in the reports', () => {
  const handle = (name: string) => ({
    name,
    phase: 'overlap',
    provider: 'toxiproxy' as const,
    toxiproxy: { action: 'down' as const, url: 'http://t', proxy: name },
  });
  const summary = { probe: 'svc', from: 12_000, to: 14_000, samples: 40, errors: 0, errorRate: 0 };
  const journal = Journal.parse({
    version: 1,
    runId: 'r',
    experiment: {
      name: 'e',
      description: 'd',
      tags: [],
      file: 'x',
      sha256: '0',
      environment: 'local',
      timeScale: 1,
    },
    startedAt: 0,
    endedAt: 30_000,
    verdict: 'aborted',
    reason: 'abort by ana: stop',
    steadyStateBefore: null,
    phases: [
      {
        name: 'overlap',
        plannedMs: 20_000,
        startedAt: 9_000,
        endedAt: 16_000,
        faults: ['whole', 'late', 'later'],
        notInjected: ['later'],
        watch: {
          phase: 'overlap',
          startedAt: 10_000,
          endedAt: 16_000,
          guardrails: [],
          expectations: [
            {
              probe: 'svc',
              during: 'late',
              ok: true,
              checks: [],
              summary: { ...summary, maxConsecutiveFailures: 0, latencyMs: null, topErrors: [], buckets: [] },
            },
          ],
          breach: null,
          attempts: 1,
          workers: ['w'],
        },
      },
    ],
    faults: [
      {
        handle: handle('whole'),
        status: 'reverted',
        recordedAt: 9_000,
        injectedAt: 9_500,
        revertedAt: 16_500,
      },
      {
        handle: handle('late'),
        status: 'reverted',
        recordedAt: 12_000,
        injectedAt: 12_000,
        revertedAt: 14_000,
      },
    ],
    rollbackSteps: [],
    steadyStateAfter: null,
    recovery: { withinMs: 1_000, recoveredAfterMs: null },
    remaining: [],
    signals: [],
    events: [],
    environment: { gameday: '0.1.0', temporal: { namespace: 'd', taskQueue: 'q', workflowId: 'r' } },
  });

  it('places each fault on its phase clock, and lists the one never injected', () => {
    expect(faultWindowRows(journal).map((row) => [row.fault, row.window])).toEqual([
      ['whole', '-500ms to +6.5s of overlap, 7s in place'],
      ['late', '+2s to +4s of overlap, 2s in place'],
      ['later', 'never injected: the phase stopped before its start'],
    ]);
    const markdown = renderMarkdown(journal);
    expect(markdown).toContain('| late | overlap |');
    expect(markdown).toContain(
      '| later | overlap | - | - | never injected: the phase stopped before its start | 0 | not injected |',
    );
    expect(markdown).toContain('| phase | overlap: svc during late | held |');
  });

  it('names the window an expectation was judged over in the HTML report', () => {
    const page = renderHtml(journal);
    expect(page).toContain('<strong>svc</strong> while <em>late</em> is in place holds');
    expect(page).toContain('<tr class="not-injected"><td>later</td>');
  });
});
