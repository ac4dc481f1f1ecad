/** October 20 replayed in the lab against the hardened build: it holds its SLOs in every phase. */
import { describe, expect, it } from 'vitest';
import { NO_JUNIT_ERRORS } from '../junit-schema';
import {
  availability,
  cleanReplayFacts,
  errorClassesIn,
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
    // Over every phase and every fault's window that has its own check.
    const windows = journal.phases.flatMap((phase) =>
      [...new Set(phase.watch?.expectations.map((e) => e.during))].map((during) => ({ phase, during })),
    );
    expect(windows.map(({ phase, during }) => `${phase.name}${during ? ` during ${during}` : ''}`)).toEqual([
      'dynamodb-outage',
      'dynamodb-outage during dynamodb-name-void',
      'dynamodb-outage during ec2-launches-fail',
      'ec2-recovery',
      'ec2-recovery during network-propagation-stalls',
      'ec2-recovery during health-checks-flap',
      'ec2-recovery during ec2-api-throttled-100',
      'ec2-recovery during ec2-api-throttled-50',
      'ec2-recovery during ec2-api-throttled-10',
    ]);
    const ordersWindows = windows.filter(({ phase, during }) =>
      phase.watch?.expectations.some((e) => e.probe === 'orders-read' && e.during === during),
    );
    expect(ordersWindows.map((w) => w.during)).toEqual([
      undefined,
      'dynamodb-name-void',
      undefined,
      'network-propagation-stalls',
      'health-checks-flap',
    ]);
    for (const { phase, during } of ordersWindows) {
      const where = `${phase.name} ${during ?? ''}`;
      expect(availability(journal, phase.name, 'orders-read', during), where).toBeGreaterThanOrEqual(0.99);
      expect(availability(journal, phase.name, 'orders-write', during), where).toBeGreaterThanOrEqual(0.99);
    }
    expect(journal.recovery.recoveredAfterMs).not.toBeNull();
    // The error classes, from the services' own counts: while the name is void no DynamoDB call
    // fails to resolve it (the DNS cache serves the last good answer past its TTL), yet the
    // autoscaler meets the day's EC2 errors, and backs off (its expectations above held).
    expect(
      errorClassesIn(replay, 'dynamodb-name-void').filter((c) => /^orders:(ENODATA|ENOTFOUND)$/.test(c)),
    ).toEqual([]);
    expect(errorClassesIn(replay, 'ec2-launches-fail')).toContain('autoscaler:InsufficientInstanceCapacity');
    expect(errorClassesIn(replay, 'ec2-api-throttled-100')).toContain('autoscaler:RequestLimitExceeded');
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
