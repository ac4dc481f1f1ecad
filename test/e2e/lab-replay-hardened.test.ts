/** October 20 replayed in the lab against the hardened build: it holds its SLOs in every phase. */
import { describe, expect, it } from 'vitest';
import { availability, expectReportsRead, replayAgainst } from '../lab-replay';

describe('the October 20 replay against the hardened build', () => {
  it('passes every phase, and the lab is restored after', async () => {
    const { journal, runDir } = await replayAgainst('hardened', { verdict: 'passed', exitCode: 0 });
    for (const phase of journal.phases) {
      expect(availability(journal, phase.name, 'orders-read'), phase.name).toBeGreaterThanOrEqual(0.99);
      expect(availability(journal, phase.name, 'orders-write'), phase.name).toBeGreaterThanOrEqual(0.99);
    }
    expect(journal.recovery.recoveredAfterMs).not.toBeNull();
    await expectReportsRead(journal, runDir, 'hardened');
  }, 300_000); // the replay itself is about two minutes
});
