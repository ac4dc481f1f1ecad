/**
 * FIS's action catalogue (fis-actions.json: each action's resource types and required permissions,
 * with its source and the day it was read), and what gameday derives from it: which action ids
 * exist, which resource types an action takes, and which actions destroy instances. `gameday plan`
 * checks a template's actions against FIS's own ListActions too, when it can reach FIS.
 */
import catalogue from './fis-actions.json' with { type: 'json' };

export interface FisActionEntry {
  resourceTypes: string[];
  permissions: string[];
  note?: string;
}

export const FIS_ACTIONS: Readonly<Record<string, FisActionEntry>> = catalogue.actions;
export const FIS_CATALOGUE_DATE = catalogue.retrieved;

/**
 * What an action that needs these permissions does to instances that no revert can undo. Derived
 * from the catalogue, not listed by hand: an action that may call TerminateInstances terminates
 * them (aws:ec2:terminate-instances, aws:eks:terminate-nodegroup-instances), one that sends Spot
 * interruptions has them terminated or stopped by EC2 (aws:ec2:send-spot-instance-interruptions).
 */
const DESTRUCTIVE_PERMISSIONS: Record<string, string> = {
  'ec2:TerminateInstances': 'terminates instances',
  'ec2:SendSpotInstanceInterruptions': 'interrupts Spot Instances, which EC2 then terminates or stops',
};

/** How the action destroys instances, or null when it does not. */
export function destroysInstances(actionId: string): string | null {
  const permission = FIS_ACTIONS[actionId]?.permissions.find((p) => p in DESTRUCTIVE_PERMISSIONS);
  return permission ? (DESTRUCTIVE_PERMISSIONS[permission] ?? null) : null;
}

export const IRREVERSIBLE_ACTIONS = Object.keys(FIS_ACTIONS).filter((id) => destroysInstances(id) !== null);

/**
 * Actions whose effect is a document of the user's (an SSM Automation runbook): what they do is
 * whatever the document says, which gameday can only show when it can read the document.
 */
export const RUNS_A_DOCUMENT = ['aws:ssm:start-automation-execution'];

/** The catalogue's closest action id, for "did you mean": the fewest single-character edits. */
export function nearestActionId(actionId: string): string | null {
  let best: { id: string; distance: number } | null = null;
  for (const id of Object.keys(FIS_ACTIONS)) {
    const distance = editDistance(actionId, id);
    if (!best || distance < best.distance) best = { id, distance };
  }
  return best && best.distance <= Math.max(3, Math.floor(actionId.length / 5)) ? best.id : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
