/**
 * Rules that span fields of an experiment: names unique within their kind, references that must
 * resolve, exactly one probe kind or fault provider. They run on the raw parsed file, not on
 * the zod result, so they are reported together with schema errors even when other parts of the
 * file are invalid.
 */
import { FAULT_PROVIDERS, faultProviders, PROBE_KINDS, probeKinds } from '../providers';
import type { FaultProvider } from '../providers/fault-provider';
import type { ProbeKind } from '../providers/probe-kind';
import { continuityIssues } from './continuity';
import { timingIssues } from './fault-timing';
import { limitIssues } from './limits';
import { isObject, list, pathText, type Raw, type RawIssue, uniqueNames } from './raw';
import { probeRateIssues } from './sampling';

export { pathText, type RawIssue } from './raw';

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

  const settings = isObject(data.settings) ? data.settings : {};
  for (const key of FAULT_PROVIDERS) {
    const declared = settings[key];
    const rules: FaultProvider = faultProviders[key];
    if (isObject(declared) && rules.settings?.issues)
      issues.push(...rules.settings.issues(declared, ['settings', key]));
  }

  issues.push(...awsIssues(data));
  issues.push(...limitIssues(data));
  issues.push(...timingIssues(data));
  issues.push(...probeRateIssues(data));
  issues.push(...continuityIssues(data));
  return issues;
}

/** Each provider's own rules, and whether the file says where AWS is when anything needs it. */
function awsIssues(data: Raw): RawIssue[] {
  const issues: RawIssue[] = [];
  const target = isObject(data.target) ? data.target : {};
  const aws = isObject(data.settings) && isObject(data.settings.aws) ? data.settings.aws : undefined;
  const usesAws: (string | number)[][] = [];

  list(data.phases).forEach((phase, p) => {
    if (!isObject(phase)) return;
    list(phase.faults).forEach((fault, f) => {
      if (!isObject(fault)) return;
      const path = ['phases', p, 'faults', f];
      for (const key of FAULT_PROVIDERS) {
        const spec = fault[key];
        if (!isObject(spec)) continue;
        const provider: FaultProvider = faultProviders[key];
        if (provider.usesAws) usesAws.push([...path, key]);
        if (provider.issues) issues.push(...provider.issues(spec, [...path, key], data));
      }
    });
  });
  const probes = [
    ...list(data.steadyState).map((probe, i) => [probe, ['steadyState', i]] as const),
    ...list(data.guardrails).map(
      (g, i) => [isObject(g) ? g.probe : undefined, ['guardrails', i, 'probe']] as const,
    ),
  ];
  for (const [probe, path] of probes) {
    if (!isObject(probe)) continue;
    for (const key of PROBE_KINDS) {
      const spec = probe[key];
      if (!isObject(spec)) continue;
      const kind: ProbeKind = probeKinds[key];
      if (kind.usesAws) usesAws.push([...path, key]);
      if (kind.issues) issues.push(...kind.issues(spec, [...path, key]));
    }
  }

  const first = usesAws[0];
  if (first && !aws) {
    issues.push({ path: first, message: 'AWS faults and probes need settings.aws (at least its region)' });
  }
  const regions = list(target.regions);
  if (aws && typeof aws.region === 'string' && regions.length > 0 && !regions.includes(aws.region)) {
    issues.push({
      path: ['settings', 'aws', 'region'],
      message: `region ${aws.region} is not in target.regions (${regions.join(', ')})`,
    });
  }
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
