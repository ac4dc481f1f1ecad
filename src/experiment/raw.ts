/** The raw parsed file as the cross-field rules read it, and the issues they report. */

export interface RawIssue {
  path: (string | number)[];
  message: string;
}

export type Raw = Record<string, unknown>;

export const isObject = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
export const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
export const named = (value: unknown) =>
  Array.isArray(value) ? value.length > 0 : isObject(value) && Object.keys(value).length > 0;

export function uniqueNames(
  items: unknown,
  path: (string | number)[],
  what: string,
  issues: RawIssue[],
): void {
  const seen = new Map<string, number>();
  list(items).forEach((item, i) => {
    if (!isObject(item) || typeof item.name !== 'string') return;
    const first = seen.get(item.name);
    if (first === undefined) {
      seen.set(item.name, i);
    } else {
      issues.push({
        path: [...path, i, 'name'],
        message: `duplicate ${what} name "${item.name}" (first at ${pathText([...path, first])})`,
      });
    }
  });
}

/** `phases[0].faults[1].name` */
export function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}
