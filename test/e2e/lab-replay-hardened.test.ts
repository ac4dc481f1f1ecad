/** October 20 replayed in the lab against the hardened build: it holds its SLOs in every phase. */
import { describe, expect, it } from 'vitest';
import { NO_JUNIT_ERRORS } from '../junit-schema';
import {
  availability,
  cleanReplayFacts,
  expectedHtml,
  HOSTILE,
  readReports,
  replayAgainst,
  replayFacts,
} from '../lab-replay';

describe('the October 20 replay against the hardened build', () => {
  it('passes every phase, and the lab is restored after', async () => {
    const replay = await replayAgainst('hardened');
    const { journal, runDir } = replay;
    expect(journal.verdict, replay.run.stdout).toBe('passed');
    expect(replay.run.code).toBe(0);
    expect(replayFacts(replay)).toEqual(cleanReplayFacts(replay));
    for (const phase of journal.phases) {
      expect(availability(journal, phase.name, 'orders-read'), phase.name).toBeGreaterThanOrEqual(0.99);
      expect(availability(journal, phase.name, 'orders-write'), phase.name).toBeGreaterThanOrEqual(0.99);
    }
    expect(journal.recovery.recoveredAfterMs).not.toBeNull();
    const reports = await readReports(journal, runDir, 'hardened');
    expect(reports.html).toEqual(expectedHtml(journal));
    expect(reports.junitErrors).toEqual(NO_JUNIT_ERRORS);
    expect(reports.hostile).toEqual({
      exitCode: 0,
      noteText: HOSTILE,
      scriptsOrImages: 0,
      pwned: 'undefined',
    });
    expect(reports.hostileComplaints).toEqual([]);
  });
});
