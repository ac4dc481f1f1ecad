/**
 * `${{ env.NAME }}` in any string of an experiment file is replaced, when the file is loaded, by
 * that environment variable of whoever plans the run: how the lab's experiments find ports chosen
 * when the lab started. It is for addresses, not secrets: the value goes into the plan and the
 * workflow history. A secret uses `${GAMEDAY_SECRET_NAME}`, which only the worker fills in.
 */
import type { RawIssue } from './checks';

const REFERENCE = /\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export function resolveEnvReferences(
  data: unknown,
  env: Record<string, string | undefined>,
): { data: unknown; issues: RawIssue[] } {
  const issues: RawIssue[] = [];
  const walk = (value: unknown, path: (string | number)[]): unknown => {
    if (typeof value === 'string') {
      return value.replace(REFERENCE, (whole, name: string) => {
        const resolved = env[name];
        if (resolved === undefined || resolved === '') {
          issues.push({ path, message: `${whole} needs the environment variable ${name}, which is not set` });
          return whole;
        }
        return resolved;
      });
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i]));
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, walk(item, [...path, key])]),
      );
    }
    return value;
  };
  return { data: walk(data, []), issues };
}
