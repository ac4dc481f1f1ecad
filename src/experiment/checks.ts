/**
 * Rules that span fields of an experiment: names unique within their kind, references that must
 * resolve, exactly one probe kind or fault provider. They run on the raw parsed file, not on
 * the zod result, so they are reported together with schema errors even when other parts of the
 * file are invalid.
 */
import { destroysInstances, FIS_ACTIONS, FIS_CATALOGUE_DATE, nearestActionId } from './fis-actions';
import { limitIssues } from './limits';
import { probeRateIssues } from './sampling';
import { FAULT_PROVIDERS, PROBE_KINDS } from './schema';

export interface RawIssue {
  path: (string | number)[];
  message: string;
}

type Raw = Record<string, unknown>;

const isObject = (value: unknown): value is Raw =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const named = (value: unknown) =>
  Array.isArray(value) ? value.length > 0 : isObject(value) && Object.keys(value).length > 0;

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

  issues.push(...awsIssues(data));
  issues.push(...limitIssues(data));
  issues.push(...probeRateIssues(data));
  return issues;
}

/** The safety rules of AWS faults and probes that a single field cannot express. */
function awsIssues(data: Raw): RawIssue[] {
  const issues: RawIssue[] = [];
  const target = isObject(data.target) ? data.target : {};
  const maxBlastRadius = typeof target.maxBlastRadius === 'number' ? target.maxBlastRadius : 50;
  const aws = isObject(data.settings) && isObject(data.settings.aws) ? data.settings.aws : undefined;
  const usesAws: (string | number)[][] = [];

  list(data.phases).forEach((phase, p) => {
    if (!isObject(phase)) return;
    list(phase.faults).forEach((fault, f) => {
      if (!isObject(fault)) return;
      const path = ['phases', p, 'faults', f];
      if (isObject(fault.awsEc2)) {
        usesAws.push([...path, 'awsEc2']);
        issues.push(...ec2FaultIssues(fault.awsEc2, [...path, 'awsEc2'], maxBlastRadius));
      }
      if (isObject(fault.awsFis)) {
        usesAws.push([...path, 'awsFis']);
        issues.push(...fisFaultIssues(fault.awsFis, [...path, 'awsFis'], maxBlastRadius));
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
    if (isObject(probe.ec2Fleet)) usesAws.push([...path, 'ec2Fleet']);
    if (isObject(probe.dynamodb)) {
      usesAws.push([...path, 'dynamodb']);
      issues.push(...dynamoProbeIssues(probe.dynamodb, [...path, 'dynamodb']));
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

function ec2FaultIssues(fault: Raw, path: (string | number)[], maxBlastRadius: number): RawIssue[] {
  const issues: RawIssue[] = [];
  if (!named(fault.instanceIds) && !named(fault.tags) && !named(fault.filters)) {
    issues.push({
      path,
      message:
        'name the instances with instanceIds, tags or filters: an empty selector matches every instance in the region',
    });
  }
  if (fault.action === 'terminate' && fault.irreversible !== true) {
    issues.push({
      path: [...path, 'action'],
      message:
        'terminate cannot be undone: set irreversible: true to confirm that this run destroys instances',
    });
  }
  issues.push(...selectionIssues(fault.selection, [...path, 'selection'], maxBlastRadius));
  return issues;
}

function fisFaultIssues(fault: Raw, path: (string | number)[], maxBlastRadius: number): RawIssue[] {
  const issues: RawIssue[] = [];
  const given = ['templateId', 'template'].filter((key) => key in fault);
  if (given.length !== 1) issues.push({ path, message: 'give exactly one of templateId and template' });
  const template = isObject(fault.template) ? fault.template : undefined;
  if (!template) return issues;
  const targets = isObject(template.targets) ? template.targets : {};
  const actions = isObject(template.actions) ? template.actions : {};
  for (const [name, targetSpec] of Object.entries(targets)) {
    if (isObject(targetSpec)) {
      const selectionPath = [...path, 'template', 'targets', name, 'selectionMode'];
      issues.push(...selectionIssues(targetSpec.selectionMode, selectionPath, maxBlastRadius));
    }
  }
  if (Object.keys(actions).length === 0) {
    issues.push({ path: [...path, 'template', 'actions'], message: 'name at least one action' });
  }
  const options = isObject(template.experimentOptions) ? template.experimentOptions : {};
  if (options.accountTargeting === 'multi-account') {
    issues.push({
      path: [...path, 'template', 'experimentOptions', 'accountTargeting'],
      message:
        'multi-account templates act in accounts target.accounts cannot check; run one experiment per account',
    });
  }
  for (const [name, targetSpec] of Object.entries(targets)) {
    if (!isObject(targetSpec)) continue;
    const byArn = list(targetSpec.resourceArns).length > 0;
    const byAttributes = named(targetSpec.resourceTags) || list(targetSpec.filters).length > 0;
    if (byArn && byAttributes) {
      issues.push({
        path: [...path, 'template', 'targets', name, 'resourceArns'],
        message: 'FIS takes a target by resourceArns or by resourceTags and filters, not both',
      });
    }
  }
  for (const [name, action] of Object.entries(actions)) {
    if (!isObject(action)) continue;
    const actionPath = [...path, 'template', 'actions', name];
    const actionId = typeof action.actionId === 'string' ? action.actionId : undefined;
    issues.push(...fisActionIssues(actionId, fault.irreversible === true, [...actionPath, 'actionId']));
    const takes = actionId ? (FIS_ACTIONS[actionId]?.resourceTypes ?? []) : [];
    for (const [key, targetName] of Object.entries(isObject(action.targets) ? action.targets : {})) {
      if (typeof targetName !== 'string') continue;
      const targetSpec = targets[targetName];
      if (!isObject(targetSpec)) {
        issues.push({
          path: [...actionPath, 'targets', key],
          message: `no target named "${targetName}" in template.targets`,
        });
      } else if (
        takes.length > 0 &&
        typeof targetSpec.resourceType === 'string' &&
        !takes.includes(targetSpec.resourceType)
      ) {
        issues.push({
          path: [...actionPath, 'targets', key],
          message: `${actionId} acts on ${takes.join(' or ')}, but target ${targetName} is ${targetSpec.resourceType}`,
        });
      }
    }
    list(action.startAfter).forEach((after, i) => {
      if (typeof after === 'string' && !(after in actions)) {
        issues.push({
          path: [...actionPath, 'startAfter', i],
          message: `no action named "${after}" in template.actions`,
        });
      }
    });
  }
  return issues;
}

/**
 * An action id FIS does not have, and an action that destroys instances without the file saying
 * irreversible: true (the prepare step checks the latter again on templates read from FIS by id).
 */
function fisActionIssues(
  actionId: string | undefined,
  irreversible: boolean,
  path: (string | number)[],
): RawIssue[] {
  if (actionId === undefined) return [];
  if (!(actionId in FIS_ACTIONS)) {
    const nearest = nearestActionId(actionId);
    return [
      {
        path,
        message:
          `FIS has no action ${actionId} (gameday's copy of FIS's actions reference, ${FIS_CATALOGUE_DATE})` +
          (nearest ? `; did you mean ${nearest}?` : ''),
      },
    ];
  }
  const destroys = destroysInstances(actionId);
  if (destroys && !irreversible) {
    return [
      {
        path,
        message: `${actionId} cannot be undone (it ${destroys}): set irreversible: true on the fault to confirm`,
      },
    ];
  }
  return [];
}

/** PERCENT(n) above the blast radius, and selections of nothing, are refused before any run. */
function selectionIssues(selection: unknown, path: (string | number)[], maxBlastRadius: number): RawIssue[] {
  if (typeof selection !== 'string') return [];
  const percent = /^PERCENT\((\d+(?:\.\d+)?)\)$/.exec(selection);
  if (percent && Number(percent[1]) > maxBlastRadius) {
    return [
      {
        path,
        message: `${selection} is above target.maxBlastRadius (${maxBlastRadius}%); raise it deliberately if you mean it`,
      },
    ];
  }
  if (/^(PERCENT|COUNT)\(0(\.0+)?\)$/.test(selection))
    return [{ path, message: `${selection} selects nothing` }];
  return [];
}

function dynamoProbeIssues(probe: Raw, path: (string | number)[]): RawIssue[] {
  const needs: Record<string, string> = { GetItem: 'key', PutItem: 'item', Query: 'keyCondition' };
  const operation = typeof probe.operation === 'string' ? probe.operation : 'GetItem';
  const needed = needs[operation];
  return needed && !(needed in probe) ? [{ path, message: `${operation} needs ${needed}` }] : [];
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
