/** The lab's FIS lifecycle: action windows chained by startAfter, as experiments/aws's throttle ramp writes them. */
import { describe, expect, it } from 'vitest';
import { actionWindows, activeActions, isoDurationMs, labStatus } from '../../src/lab/fis-lifecycle';

const t0 = 1_700_000_000;
const ramp = {
  id: 'e',
  state: { status: 'pending' },
  startTime: t0,
  actions: {
    'throttle-100': { actionId: 'aws:fis:inject-api-throttle-error', parameters: { duration: 'PT4M' } },
    'throttle-50': {
      actionId: 'aws:fis:inject-api-throttle-error',
      parameters: { duration: 'PT3M' },
      startAfter: ['throttle-100'],
    },
    'throttle-10': {
      actionId: 'aws:fis:inject-api-throttle-error',
      parameters: { duration: 'PT3M' },
      startAfter: ['throttle-50'],
    },
  },
};
const at = (minutes: number) => t0 * 1000 + minutes * 60_000;

describe('the lab FIS lifecycle', () => {
  it('chains actions by startAfter and their durations, and completes when the last is done', () => {
    expect(actionWindows(ramp).map((w) => [w.name, w.startsAt, w.endsAt])).toEqual([
      ['throttle-100', at(0), at(4)],
      ['throttle-50', at(4), at(7)],
      ['throttle-10', at(7), at(10)],
    ]);
    expect(activeActions(ramp, at(5)).map((w) => w.name)).toEqual(['throttle-50']);
    expect(labStatus(ramp, at(9.9))).toBe('running');
    expect(labStatus(ramp, at(10))).toBe('completed');
    expect(activeActions(ramp, at(10))).toEqual([]);
  });

  it('is stopped, with nothing in effect, once moto has the stop', () => {
    const stopped = { ...ramp, state: { status: 'stopping' } };
    expect(labStatus(stopped, at(1))).toBe('stopped');
    expect(activeActions(stopped, at(1))).toEqual([]);
  });

  it('reads FIS durations', () => {
    expect([
      isoDurationMs('PT30M'),
      isoDurationMs('PT1H30M'),
      isoDurationMs('PT90S'),
      isoDurationMs('P1D'),
    ]).toEqual([1_800_000, 5_400_000, 90_000, 86_400_000]);
    expect(() => isoDurationMs('30m')).toThrow('FIS duration 30m: not ISO 8601 (PT30M)');
    expect(() => isoDurationMs('PT')).toThrow();
  });
});
