/** review.md and the comparison of runs, on journals recorded from real runs (test/fixtures/journals). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRuns, differences, renderCompareMarkdown } from '../../src/report/compare';
import { measureContinuity } from '../../src/report/continuity';
import { Journal } from '../../src/report/journal';
import { clocks, renderReview } from '../../src/report/review';
import { PROJECT_ROOT } from '../../src/tools';

const recorded = (name: string): Journal =>
  Journal.parse(JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/fixtures/journals', name), 'utf8')));
const FIXTURES = ['replay-fragile.json', 'replay-hardened.json', 'temporal-restart.json'];
const SETUP = ['lock.acquired', 'aws.account', 'proxies.created', 'targets.resolved'];

/** The timeline rows of a review: its table between "## Timeline" and the next heading. */
function timelineRows(review: string): string[][] {
  const section = review.split('## Timeline')[1]?.split('\n## ')[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| T+'))
    .map((line) => line.slice(2, -2).split(' | '));
}

describe("review.md's timeline", () => {
  for (const fixture of FIXTURES) {
    it(`lists every event of ${fixture} that happened during the game day, in order, at its time`, () => {
      const journal = recorded(fixture);
      const events = journal.events.filter((e) => !SETUP.includes(e.type));
      const rows = timelineRows(renderReview(journal));
      const { run } = clocks(journal);
      const listed = rows.filter((row) => row.at(-2) !== 'recovered' && row.at(-2) !== 'note');
      expect(listed.map((row) => [row[0], row.at(-2)])).toEqual(
        events.map((e) => [run(e.at), e.type.replace(/[_*]/g, (c) => `\\${c}`)]),
      );
      expect(listed.map((row) => row.at(-1)?.replace(/\\(.)/g, '$1'))).toEqual(events.map((e) => e.message));
      // Recovery is on it when the steady state came back.
      expect(rows.some((row) => row.at(-2) === 'recovered')).toBe(journal.recovery.recoveredAfterMs !== null);
    });
  }

  it("carries the outage's own clock when the experiment compresses it: each phase at its offset in the outage", () => {
    const journal = recorded('replay-fragile.json');
    const { outage } = clocks(journal);
    if (!outage) throw new Error('a compressed replay has an outage clock');
    const starts = journal.events.filter((e) => e.type === 'phase.started');
    const rows = timelineRows(renderReview(journal)).filter((row) => row.at(-2) === 'phase.started');
    expect(rows.map((row) => row[1])).toEqual(starts.map((e) => outage(e.at)));
    expect(rows[0]?.[1]).toBe('+00:00');
    // The second phase, lease collapse, starts when the DNS void's 2h52m (× 0.0025 in the run) ended.
    const second = rows[1]?.[1] ?? '';
    expect(second).toMatch(/^\+2:5[23]:\d\d$/);
    expect(clocks(recorded('temporal-restart.json')).outage).toBeNull();
  });

  it('has notes, the summary, failed hypotheses, the impact against the plan and empty action items', () => {
    const journal = recorded('replay-fragile.json');
    journal.notes.push({
      at: (journal.phases[0]?.startedAt ?? 0) + 500,
      by: 'ana',
      text: 'p99 up | on the dashboard',
    });
    journal.continuity = measureContinuity(
      journal,
      { services: [{ name: 'orders', rtoMs: 5_000, rpoMs: 0, slo: ['orders-read', 'orders-write'] }] },
      [],
    );
    const review = renderReview(journal);
    expect(
      timelineRows(review)
        .find((row) => row.at(-2) === 'note')
        ?.at(-1),
    ).toBe('ana: p99 up \\| on the dashboard');
    expect(review).toContain(`- **Verdict: deviated**`);
    expect(review).toContain('| orders | RTO | 5s | 28s below SLO, recovered in 0ms | **MISSED** |');
    expect(review).toContain('- **phase: dns-void: orders-read**');
    expect(review.split('## Action items')[1]).toContain('| 1 |  |  |  |');
    expect(renderReview(recorded('replay-fragile.json'))).toContain('has no continuity plan');
  });
});

describe('runs compared', () => {
  it('a run compared with itself differs nowhere', () => {
    const journal = recorded('replay-hardened.json');
    const comparison = compareRuns([journal, journal]);
    expect(comparison.rows.length).toBeGreaterThan(10);
    expect(comparison.rows.filter((row) => row.differs)).toEqual([]);
    expect(differences(comparison)).toEqual([]);
    expect(renderCompareMarkdown(comparison)).toContain('No difference');
  });

  it('the fragile and the hardened build differ where the outage hurt: verdict, availability, error classes', () => {
    const fragile = recorded('replay-fragile.json');
    const hardened = recorded('replay-hardened.json');
    const found = differences(compareRuns([fragile, hardened]));
    expect(found).toContain(`verdict: ${fragile.runId} deviated · ${hardened.runId} passed`);
    expect(found).toContain(
      `dns-void: orders-read availability: ${fragile.runId} 0% · ${hardened.runId} 100%`,
    );
    expect(found.some((line) => line.startsWith('dns-void: orders-read error classes:'))).toBe(true);
  });

  it('puts each service RTO and RPO side by side', () => {
    const plan = {
      services: [{ name: 'orders', rtoMs: 5_000, rpoMs: 0, slo: ['orders-read', 'orders-write'] }],
    };
    const [fragile, hardened] = ['replay-fragile.json', 'replay-hardened.json'].map((name) => {
      const journal = recorded(name);
      journal.continuity = measureContinuity(journal, plan, []);
      return journal;
    }) as [Journal, Journal];
    const row = compareRuns([fragile, hardened]).rows.find(
      (r) => r.section === 'service orders' && r.label === 'RTO measured',
    );
    expect(row).toMatchObject({ differs: true, failed: [true, false] });
    expect(row?.values[0]).toBe('28s below SLO, recovered in 0ms');
  });
});
