/**
 * Which of the lab's callers and resources a running FIS action names, and what it does to one
 * EC2 call: the rules of FIS's API-error actions, as its actions reference states them.
 *
 *   aws:ec2:api-insufficient-instance-capacity-error  Roles; percentage, availabilityZoneIdentifiers
 *   aws:fis:inject-api-throttle-error                 Roles; service, operations, percentage
 *   aws:fis:inject-api-unavailable-error              Roles; service, operations, percentage
 *   aws:fis:inject-api-internal-error                 Roles; service, operations, percentage
 */
import type { Ec2ErrorCode } from './ec2-errors';
import type { ActionWindow } from './fis-lifecycle';

/** An action with its targets resolved: role keys (account/name) and resource ids by target key. */
export interface ResolvedAction extends ActionWindow {
  experimentId: string;
  resolved: Record<string, string[]>;
}

export interface Ec2Call {
  operation: string;
  /** The caller's IAM role as `account/name`, or null when it is no role (a user, the lab's own keys). */
  role: string | null;
  /** Where the call would place capacity: its zone name and zone id. */
  availabilityZone: { name: string; id: string };
}

/** The operations the capacity action fails (FIS actions reference, aws:ec2:api-insufficient-instance-capacity-error). */
const CAPACITY_OPERATIONS = ['RunInstances', 'StartInstances', 'CreateFleet', 'CreateCapacityReservation'];

const API_ERRORS: Record<string, Ec2ErrorCode> = {
  'aws:fis:inject-api-throttle-error': 'RequestLimitExceeded',
  'aws:fis:inject-api-unavailable-error': 'ServiceUnavailable',
  'aws:fis:inject-api-internal-error': 'InternalError',
};

export const EC2_API_ACTIONS = [
  'aws:ec2:api-insufficient-instance-capacity-error',
  ...Object.keys(API_ERRORS),
];

/** `arn:aws:iam::123456789012:role/path/name` (or its assumed-role session ARN) as `123456789012/name`. */
export function roleKey(arn: string): string | null {
  const iam = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (iam) return `${iam[1]}/${iam[2]}`;
  const assumed = /^arn:[^:]+:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  return assumed ? `${assumed[1]}/${assumed[2]}` : null;
}

/** The error an EC2 call gets from the running actions, or null: the first action that hits it wins. */
export function ec2Fault(
  actions: ResolvedAction[],
  call: Ec2Call,
  random: () => number = Math.random,
): Ec2ErrorCode | null {
  if (!call.role) return null;
  for (const action of actions) {
    if (!(action.resolved.Roles ?? []).includes(call.role)) continue;
    const p = action.parameters;
    const hits = () => random() * 100 < Number(p.percentage ?? 100);
    if (action.actionId === 'aws:ec2:api-insufficient-instance-capacity-error') {
      if (!CAPACITY_OPERATIONS.includes(call.operation)) continue;
      const zones = list(p.availabilityZoneIdentifiers);
      const inZone =
        zones.length === 0 ||
        zones.includes(call.availabilityZone.name) ||
        zones.includes(call.availabilityZone.id);
      if (inZone && hits()) return 'InsufficientInstanceCapacity';
      continue;
    }
    const code = API_ERRORS[action.actionId];
    if (!code || (p.service ?? 'ec2') !== 'ec2') continue;
    if (list(p.operations).includes(call.operation) && hits()) return code;
  }
  return null;
}

const list = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** How many of `ids` FIS's selection mode picks (ALL, COUNT(n), PERCENT(n): at least one of a non-empty set). */
export function select(
  ids: string[],
  mode: string | undefined,
  random: () => number = Math.random,
): string[] {
  const count = /^COUNT\((\d+)\)$/.exec(mode ?? '');
  const percent = /^PERCENT\((\d+(?:\.\d+)?)\)$/.exec(mode ?? '');
  const n = count
    ? Number(count[1])
    : percent
      ? Math.max(Math.floor((ids.length * Number(percent[1])) / 100), ids.length > 0 ? 1 : 0)
      : ids.length;
  const shuffled = ids
    .map((id) => ({ id, key: random() }))
    .sort((a, b) => a.key - b.key)
    .map((entry) => entry.id);
  return shuffled.slice(0, Math.min(n, ids.length));
}
