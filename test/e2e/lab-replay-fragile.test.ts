/** October 20 replayed in the lab against the fragile build: it deviates where the outage hurt. */
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/report/journal';
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

const expectation = (journal: Journal, phase: string, probe: string, during: string) =>
  journal.phases
    .find((p) => p.name === phase)
    ?.watch?.expectations.find((e) => e.probe === probe && e.during === during);

describe('the October 20 replay against the fragile build', () => {
  it('deviates in every phase where the real outage hurt, and the lab is restored after', async () => {
    const replay = await replayAgainst('fragile');
    const { journal, runDir, seen } = replay;
    expect(journal.verdict, replay.run.stdout).toBe('deviated');
    expect(replay.run.code).toBe(1);
    expect(replayFacts(replay)).toEqual(cleanReplayFacts(replay));
    // DNS void, judged over its own window: once the TTL runs out the instances' DynamoDB calls
    // fail to resolve the name (their own counts say ENODATA); no queue, and a deep health check
    // empties the load balancer.
    expect(errorClassesIn(replay, 'dynamodb-name-void')).toContain('orders:ENODATA');
    expect(expectation(journal, 'dynamodb-outage', 'dns-errors', 'dynamodb-name-void')?.ok).toBe(false);
    expect(availability(journal, 'dynamodb-outage', 'orders-read', 'dynamodb-name-void')).toBeLessThan(0.1);
    expect(availability(journal, 'dynamodb-outage', 'orders-write', 'dynamodb-name-void')).toBeLessThan(0.1);
    // Lease collapse: RunInstances answers InsufficientInstanceCapacity (the autoscaler's own
    // count); running instances keep serving, as on the day, but the lost host is never replaced
    // while launches fail: moto itself never shows the fleet whole while it is lost.
    expect(errorClassesIn(replay, 'ec2-launches-fail')).toContain('autoscaler:InsufficientInstanceCapacity');
    const lost = journal.faults.find((f) => f.handle.name === 'hosts-lost');
    const outage = journal.phases.find((p) => p.name === 'dynamodb-outage')?.watch;
    // From when moto first showed the host stopped (FIS stops it on the AWS front's next look at
    // its experiments, once the experiment runs; after the launch failures were in place: its
    // startAfter) until the phase ends and its faults come out together (the launches work again
    // before the host is running again); less its first half second, where a look taken just
    // before the stop may be stamped after it.
    const running = (o: (typeof seen)[number]) =>
      Object.values(o.fleet).filter((s) => s === 'running').length;
    const stoppedAt =
      seen.find((o) => o.at >= (lost?.injectedAt ?? 0) && running(o) < 4)?.at ?? Number.POSITIVE_INFINITY;
    const whileLost = seen.filter((o) => o.at >= stoppedAt + 500 && o.at <= (outage?.endedAt ?? 0));
    const launchesFail = journal.faults.find((f) => f.handle.name === 'ec2-launches-fail');
    expect(lost?.injectedAt).toBeGreaterThan(launchesFail?.injectedAt ?? Number.POSITIVE_INFINITY);
    expect(whileLost.length).toBeGreaterThan(10);
    expect(Math.max(...whileLost.map(running))).toBeLessThan(4);
    // Network backlog, overlapped by flapping health checks and throttling as on the day: there is
    // no fail-open and no retry on another target, so the orders API fails in its window.
    expect(
      availability(journal, 'ec2-recovery', ['orders-read', 'orders-write'], 'network-propagation-stalls'),
    ).toBeLessThan(0.99);
    // Flapping health checks drop every target from time to time, and there is no fail-open.
    expect(availability(journal, 'ec2-recovery', 'orders-read', 'health-checks-flap')).toBeLessThan(0.99);
    // Throttled recovery: every launch answers RequestLimitExceeded, and the autoscaler, missing
    // a host, retries at once: more than 2 throttled calls a second, adding to the storm.
    expect(errorClassesIn(replay, 'ec2-api-throttled-100')).toContain('autoscaler:RequestLimitExceeded');
    expect(expectation(journal, 'ec2-recovery', 'throttle-errors', 'ec2-api-throttled-100')?.ok).toBe(false);
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
