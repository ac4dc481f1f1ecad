/**
 * Durations in experiment files are strings: a number and a unit (`250ms`, `30s`, `5m`, `1h`), or
 * several from largest to smallest (`2h52m`, `1m30s`), as Go and the Temporal CLI write them.
 */
export const DURATION_PATTERN =
  /^(?=\d)(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/;

const UNIT_MS = [3_600_000, 60_000, 1_000, 1];

export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text);
  if (!match || text === '') throw new Error(`"${text}" is not a duration like 250ms, 30s, 5m, 1h or 2h52m`);
  return Math.round(
    match.slice(1).reduce((total, amount, i) => total + Number(amount ?? 0) * (UNIT_MS[i] ?? 0), 0),
  );
}

/** The shortest readable form: 1500 → "1.5s", 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${trim(ms / 1_000)}s`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = Math.round((ms % 60_000) / 1_000);
  return (
    [hours ? `${hours}h` : '', minutes ? `${minutes}m` : '', seconds ? `${seconds}s` : ''].join('') || '0s'
  );
}

function trim(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');
}
