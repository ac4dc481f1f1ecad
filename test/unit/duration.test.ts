import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/experiment/duration';

describe('durations', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['2h52m', 10_320_000],
    ['1s500ms', 1_500],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', '10 s', '1d', '-1s', 's', '30s1m', 'ms', '1h1h'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });

  it('formats readably', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(1_500)).toBe('1.5s');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(3_600_000)).toBe('1h');
  });
});
