import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/report/journal';
import { renderMarkdown } from '../../src/report/markdown';

const journal = (overrides: Partial<Journal> = {}): Journal =>
  Journal.parse({
    version: 1,
    runId: 'night-7',
    experiment: {
      name: 'checkout',
      description: 'Checkout | survives',
      tags: [],
      file: 'x.yaml',
      sha256: '0',
      environment: 'local',
      timeScale: 1,
    },
    startedAt: 0,
    endedAt: 90_000,
    verdict: 'passed',
    reason: 'steady state held',
    steadyStateBefore: null,
    phases: [],
    faults: [
      {
        handle: {
          name: 'db-down',
          phase: 'outage',
          provider: 'toxiproxy',
          toxiproxy: { action: 'down', url: 'http://t', proxy: 'db' },
        },
        status: 'reverted',
        recordedAt: 1_000,
        injectedAt: 1_010,
        revertedAt: 31_000,
        revertAttempts: 3,
        lastRevertError: undefined,
      },
    ],
    rollbackSteps: [],
    steadyStateAfter: null,
    recovery: { withinMs: 30_000, recoveredAfterMs: 1_500 },
    remaining: [],
    signals: [{ type: 'abort', at: 2_000, by: 'ana', reason: 'pager | fired' }],
    events: [],
    environment: {
      gameday: '0.1.0',
      temporal: { namespace: 'default', taskQueue: 'gameday', workflowId: 'night-7' },
    },
    ...overrides,
  });

describe('the Markdown report', () => {
  it('leads with the verdict, the reason and the recovery time', () => {
    const text = renderMarkdown(journal());
    expect(text.startsWith('# checkout: passed\n\nsteady state held\n')).toBe(true);
    expect(text).toContain('- recovery: 1.5s after rollback (allowed 30s)');
    expect(text).toContain('| recovery | recovery | held | recovered 1.5s after rollback |');
    expect(text).toContain(
      '| db-down | outage | 1970-01-01T00:00:01.010Z | 1970-01-01T00:00:31.000Z | 30s in place | 3 | toxiproxy http://t proxy db disabled |',
    );
  });

  it('says loudly what is still injected', () => {
    const text = renderMarkdown(
      journal({
        verdict: 'rollback-failed',
        remaining: [{ what: 'fault db-down', detail: 'proxy db disabled' }],
      }),
    );
    expect(text).toContain('## STILL INJECTED\n\n- **fault db-down**: proxy db disabled');
    expect(text).toMatch(
      /\| rollback \| rollback \| \*\*FAILED\*\* \| .* \| STILL INJECTED: fault db-down: proxy db disabled \|/,
    );
  });

  it('keeps table cells intact when values contain pipes', () => {
    const text = renderMarkdown(journal());
    expect(text).toContain('> Checkout \\| survives');
    expect(text).toContain('abort by ana: pager \\| fired');
  });

  it('links the HTML report and keeps markup in journal text inert', () => {
    const text = renderMarkdown(
      journal({
        notes: [
          { at: 3_000, by: 'eve', text: '<img src=x onerror=alert(1)>' },
          { at: 4_000, by: 'eve', text: '![x](https://evil.example/x.png) @oncall **now**' },
        ],
      }),
      { htmlPath: 'report.html' },
    );
    expect(text).toContain('- full report: [report.html](report.html)');
    expect(text).toContain('note by eve: &lt;img src=x onerror=alert\\(1\\)&gt;');
    expect(text).not.toContain('<img');
    expect(text).toContain(
      'note by eve: \\!\\[x\\]\\(https://evil.example/x.png\\) \\@oncall \\*\\*now\\*\\*',
    );
    expect(text).not.toContain('![x](');
  });
});
