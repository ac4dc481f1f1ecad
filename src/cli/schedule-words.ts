/**
 * Schedules in words, from what Temporal holds: it compiles cron into calendars, so `schedule list`
 * reads them back as "every day at 03:00 Europe/Paris", "once, on 2026-12-03 at 14:00 UTC", or as
 * cron when no plainer words fit. Pure but for the clock (how far away a time is).
 */
import type { CalendarSpecDescription, Range, ScheduleDescription } from '@temporalio/client';
import { formatDuration } from '../experiment/duration';

export const MONTH_NAMES = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
] as const;
export const DAY_NAMES = [
  'SUNDAY',
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
] as const;

/** When a schedule fires, in words, from what Temporal holds (it compiles cron into calendars). */
export function specWords(description: Pick<ScheduleDescription, 'spec'>): string {
  const { spec } = description;
  const zone = spec.timezone || 'UTC';
  const parts = [
    ...(spec.calendars ?? []).map((calendar) => calendarWords(calendar, zone)),
    ...(spec.intervals ?? []).map(
      (interval) =>
        `every ${formatDuration(interval.every)}${interval.offset ? ` (offset ${formatDuration(interval.offset)})` : ''}`,
    ),
  ];
  const jitter = spec.jitter ? `, up to ${formatDuration(spec.jitter)} later at random` : '';
  return `${parts.join(' and ') || 'never'}${jitter}`;
}

function calendarWords(calendar: CalendarSpecDescription, zone: string): string {
  const single = (ranges: Range<number>[]) =>
    ranges.length === 1 && ranges[0] && ranges[0].end <= ranges[0].start ? ranges[0].start : null;
  const month = calendar.month.map((r) => ({ ...r, start: monthNumber(r.start), end: monthNumber(r.end) }));
  const week = calendar.dayOfWeek.map((r) => ({
    ...r,
    start: DAY_NAMES.indexOf(r.start),
    end: DAY_NAMES.indexOf(r.end),
  }));
  const [second, minute, hour] = [single(calendar.second), single(calendar.minute), single(calendar.hour)];
  const clock =
    second !== null && minute !== null && hour !== null
      ? `${pad(hour)}:${pad(minute)}${second ? `:${pad(second)}` : ''} ${zone}`
      : null;
  const anyDay = field(calendar.dayOfMonth, 1, 31) === '*';
  const anyMonth = field(month, 1, 12) === '*';
  const anyWeekday = field(week, 0, 6) === '*';
  const [year, monthOnly, day] = [single(calendar.year), single(month), single(calendar.dayOfMonth)];
  if (clock && year !== null && monthOnly !== null && day !== null && anyWeekday) {
    return `once, on ${year}-${pad(monthOnly)}-${pad(day)} at ${clock}`;
  }
  if (clock && anyDay && anyMonth && calendar.year.length === 0) {
    if (anyWeekday) return `every day at ${clock}`;
    return `every ${week.map((r) => dayRange(r)).join(', ')} at ${clock}`;
  }
  const cron = [
    field(calendar.minute, 0, 59),
    field(calendar.hour, 0, 23),
    field(calendar.dayOfMonth, 1, 31),
    field(month, 1, 12),
    field(week, 0, 6),
  ];
  const full = second === 0 && calendar.year.length === 0;
  const fields = full
    ? cron
    : [field(calendar.second, 0, 59), ...cron, calendar.year.length ? field(calendar.year, 0, 9999) : '*'];
  return `cron "${fields.join(' ')}" ${zone}`;
}

function field(ranges: Range<number>[], min: number, max: number): string {
  if (ranges.length === 0) return '*';
  if (ranges.length === 1 && ranges[0]?.start === min && ranges[0].end >= max && ranges[0].step <= 1)
    return '*';
  return ranges
    .map(({ start, end, step }) => `${start}${end > start ? `-${end}` : ''}${step > 1 ? `/${step}` : ''}`)
    .join(',');
}

function dayRange({ start, end, step }: Range<number>): string {
  const name = (day: number) => (DAY_NAMES[day] ?? String(day)).toLowerCase();
  return `${name(start)}${end > start ? `-${name(end)}` : ''}${step > 1 ? `/${step}` : ''}`;
}

function monthNumber(month: string): number {
  return MONTH_NAMES.indexOf(month as (typeof MONTH_NAMES)[number]) + 1;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

export function timeText(time: Date): string {
  const iso = time.toISOString().replace(/\.\d+Z$/, 'Z');
  const ms = time.getTime() - Date.now();
  return ms > 0 ? `${iso} (in ${formatDuration(Math.max(1_000, Math.round(ms / 1_000) * 1_000))})` : iso;
}
