/** October 20 replayed in the lab against the fragile build: it deviates where the outage hurt. */
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

describe('the October 20 replay against the fragile build', () => {
  it('deviates in every phase where the real outage hurt, and the lab is restored after', async () => {
    const replay = await replayAgainst('fragile');
    const { journal, runDir, seen } = replay;
    expect(journal.verdict, replay.run.stdout).toBe('deviated');
    expect(replay.run.code).toBe(1);
    expect(replayFacts(replay)).toEqual(cleanReplayFacts(replay));
    // DynamoDB gone: no cache, no queue, and a deep health check empties the load balancer.
    expect(availability(journal, 'dns-void', 'orders-read')).toBeLessThan(0.1);
    expect(availability(journal, 'dns-void', 'orders-write')).toBeLessThan(0.1);
    // Lease collapse: running instances keep serving, as on the day, but the lost host is never
    // replaced while RunInstances fails: moto itself never shows the fleet whole in the phase.
    const watched = journal.phases.find((p) => p.name === 'lease-collapse')?.watch;
    // The watch's window, from when the host was stopped and the API broken until they are undone;
    // less its first half second, where a look taken just before the stop may be stamped after it.
    const inPhase = seen.filter(
      (o) => o.at >= (watched?.startedAt ?? 0) + 500 && o.at <= (watched?.endedAt ?? 0),
    );
    const running = (o: (typeof seen)[number]) =>
      Object.values(o.fleet).filter((s) => s === 'running').length;
    expect(inPhase.length).toBeGreaterThan(10);
    expect(Math.max(...inPhase.map(running))).toBeLessThan(4);
    // Network backlog: the replacement launched for the churned host takes traffic at once (new
    // targets count as healthy) though it has no network yet, until two checks catch up.
    expect(availability(journal, 'network-backlog', ['orders-read', 'orders-write'])).toBeLessThan(0.99);
    // Flapping health checks drop every target from time to time, and there is no fail-open.
    expect(availability(journal, 'nlb-health-flapping', 'orders-read')).toBeLessThan(0.99);
    // With every EC2 call slower than its timeout, the autoscaler never replaces the lost instance.
    const fleet = journal.phases
      .find((p) => p.name === 'throttled-100')
      ?.watch?.expectations.find((e) => e.probe === 'fleet');
    expect(fleet?.ok).toBe(false);
    const reports = await readReports(journal, runDir, 'fragile');
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
