/**
 * Rules that span fields of an experiment: names unique within their kind, references that must
 * resolve, exactly one probe kind or fault provider. They run on the raw parsed file, not on
 * the zod result, so they are reported together with schema errors even when other parts of the
 * file are invalid.
 */
import { FAULT_PROVIDERS, PROBE_KINDS } from './schema';

export interface RawIssue {
  path: (string | number)[];
  message: string;
}

type Raw = Record<string, unknown>;

const isObject = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

export function crossFieldIssues(data: unknown): RawIssue[] {
  if (!isObject(data)) return [];
  const issues: RawIssue[] = [];

  const probeNames = new Set<string>();
  list(data.steadyState).forEach((probe, i) => {
    if (!isObject(probe)) return;
    exactlyOneKey(probe, PROBE_KINDS, ['steadyState', i], 'probe kind', issues);
    if (typeof probe.name === 'string') probeNames.add(probe.name);
  });

  uniqueNames(data.steadyState, ['steadyState'], 'probe', issues);
  uniqueNames(data.guardrails, ['guardrails'], 'guardrail', issues);
  uniqueNames(data.phases, ['phases'], 'phase', issues);
  uniqueNames(data.rollback, ['rollback'], 'rollback step', issues);

  list(data.guardrails).forEach((guardrail, i) => {
    if (!isObject(guardrail)) return;
    const probe = guardrail.probe;
    if (typeof probe === 'string') knownProbe(probe, probeNames, ['guardrails', i, 'probe'], issues);
    if (isObject(probe)) exactlyOneKey(probe, PROBE_KINDS, ['guardrails', i, 'probe'], 'probe kind', issues);
  });

  // Fault names are unique across the whole experiment: the fault name, with the run id, names
  // what is injected (the toxic), so two faults with one name would revert each other.
  const faultPaths = new Map<string, (string | number)[]>();
  list(data.phases).forEach((phase, p) => {
    if (!isObject(phase)) return;
    list(phase.faults).forEach((fault, f) => {
      if (!isObject(fault)) return;
      const path = ['phases', p, 'faults', f];
      exactlyOneKey(fault, FAULT_PROVIDERS, path, 'fault provider', issues);
      if (typeof fault.name !== 'string') return;
      const first = faultPaths.get(fault.name);
      if (first) {
        issues.push({
          path: [...path, 'name'],
          message: `duplicate fault name "${fault.name}" (first at ${pathText(first)})`,
        });
      } else {
        faultPaths.set(fault.name, path);
      }
    });
    list(phase.expect).forEach((expectation, e) => {
      if (isObject(expectation) && typeof expectation.probe === 'string') {
        knownProbe(expectation.probe, probeNames, ['phases', p, 'expect', e, 'probe'], issues);
      }
    });
  });

  const toxiproxy =
    isObject(data.settings) && isObject(data.settings.toxiproxy) ? data.settings.toxiproxy : undefined;
  if (toxiproxy) uniqueNames(toxiproxy.proxies, ['settings', 'toxiproxy', 'proxies'], 'proxy', issues);

  return issues;
}

function exactlyOneKey(
  value: Raw,
  keys: readonly string[],
  path: (string | number)[],
  what: string,
  issues: RawIssue[],
): void {
  const present = keys.filter((key) => key in value);
  if (present.length === 1) return;
  const choices = keys.join(', ');
  issues.push({
    path,
    message:
      present.length === 0
        ? `needs exactly one ${what} (${choices})`
        : `has ${present.length} ${what}s (${present.join(', ')}); give exactly one`,
  });
}

function uniqueNames(items: unknown, path: (string | number)[], what: string, issues: RawIssue[]): void {
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

function knownProbe(
  name: string,
  probeNames: Set<string>,
  path: (string | number)[],
  issues: RawIssue[],
): void {
  if (probeNames.has(name)) return;
  const known = [...probeNames].join(', ') || 'none';
  issues.push({ path, message: `no steadyState probe is named "${name}" (known: ${known})` });
}

/** `phases[0].faults[1].name` */
export function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}
