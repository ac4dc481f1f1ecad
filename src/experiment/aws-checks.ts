/** The validate-time rules of the AWS faults and probes that a single field cannot express. */
import { destroysInstances, FIS_ACTIONS, FIS_CATALOGUE_DATE, nearestActionId } from './fis-actions';
import { isObject, list, named, type Raw, type RawIssue } from './raw';

export function ec2FaultIssues(fault: Raw, path: (string | number)[], maxBlastRadius: number): RawIssue[] {
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

export function fisFaultIssues(fault: Raw, path: (string | number)[], maxBlastRadius: number): RawIssue[] {
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

export function dynamoProbeIssues(probe: Raw, path: (string | number)[]): RawIssue[] {
  const needs: Record<string, string> = { GetItem: 'key', PutItem: 'item', Query: 'keyCondition' };
  const operation = typeof probe.operation === 'string' ? probe.operation : 'GetItem';
  const needed = needs[operation];
  return needed && !(needed in probe) ? [{ path, message: `${operation} needs ${needed}` }] : [];
}
