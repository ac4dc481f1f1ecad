/** Scheduled runs' ids, the environment a schedule captures, and schedules in words. */
import { describe, expect, it } from 'vitest';
import { plannerOverrides } from '../../src/cli/schedule-spec';
import { specWords } from '../../src/cli/schedule-words';
import { RUN_ID_PATTERN } from '../../src/experiment/plan';
import { scheduledRunId } from '../../workflows/scheduled-run';

const every = (start: number, end: number) => [{ start, end, step: 1 }];
const one = (value: number) => every(value, value);
const calendar = {
  second: one(0),
  minute: one(0),
  hour: one(3),
  dayOfMonth: every(1, 31),
  month: [{ start: 'JANUARY' as const, end: 'DECEMBER' as const, step: 1 }],
  year: [],
  dayOfWeek: [{ start: 'SUNDAY' as const, end: 'SATURDAY' as const, step: 1 }],
};

describe('scheduled run ids', () => {
  it('are the schedule id and the fire time, written as gameday run writes times', () => {
    expect(scheduledRunId('nightly-2026-12-03T14:00:00Z')).toBe('nightly-20261203-140000');
    expect(scheduledRunId('a.b_c-2026-01-02T03:04:05Z')).toBe('a.b_c-20260102-030405');
  });

  it('stay valid run ids whatever the workflow id', () => {
    for (const id of [
      'nightly-2026-12-03T14:00:00Z',
      'odd id/with:chars',
      '--leading',
      `${'x'.repeat(120)}-2026-12-03T14:00:00Z`,
      '',
    ]) {
      expect(scheduledRunId(id)).toMatch(RUN_ID_PATTERN);
    }
    expect(scheduledRunId(`${'x'.repeat(120)}-2026-12-03T14:00:00Z`)).toMatch(/-20261203-140000$/);
  });
});

describe('planner overrides', () => {
  it('keeps what planning reads from the environment, set and non-empty', () => {
    expect(
      plannerOverrides({
        TOXIPROXY_URL: 'http://127.0.0.1:1',
        AWS_REGION: '',
        AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:2',
        AWS_SECRET_ACCESS_KEY: 'secret',
        HOME: '/root',
        AWS_ENDPOINT_URL: undefined,
      }),
    ).toEqual({ AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:2', TOXIPROXY_URL: 'http://127.0.0.1:1' });
  });
});

describe('schedules in words', () => {
  it('says daily, weekdays, once, intervals and jitter plainly, and falls back to cron', () => {
    expect(specWords({ spec: { calendars: [calendar], timezone: 'Europe/Paris' } })).toBe(
      'every day at 03:00 Europe/Paris',
    );
    expect(
      specWords({
        spec: {
          calendars: [{ ...calendar, dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }] }],
        },
      }),
    ).toBe('every monday-friday at 03:00 UTC');
    expect(
      specWords({
        spec: {
          calendars: [
            {
              ...calendar,
              hour: one(14),
              dayOfMonth: one(3),
              month: [{ start: 'DECEMBER', end: 'DECEMBER', step: 1 }],
              year: one(2026),
            },
          ],
        },
      }),
    ).toBe('once, on 2026-12-03 at 14:00 UTC');
    expect(specWords({ spec: { intervals: [{ every: 30_000, offset: 0 }], jitter: 300_000 } })).toBe(
      'every 30s, up to 5m later at random',
    );
    expect(
      specWords({ spec: { calendars: [{ ...calendar, minute: [{ start: 0, end: 59, step: 15 }] }] } }),
    ).toBe('cron "0-59/15 3 * * *" UTC');
  });
});
