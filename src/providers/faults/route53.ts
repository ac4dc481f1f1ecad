/**
 * The `route53` fault provider: empties a record set in a Route 53 hosted zone, as October 20's
 * DNS automation emptied dynamodb.us-east-1.amazonaws.com (a private hosted zone in an account is
 * the same shape; FIS has no action for it). Resolve saves the record sets in the handle, which
 * the run records before the inject; inject deletes them and writes the void mark beside them
 * (route53-records.ts) in one atomic batch; revert UPSERTs them back and deletes the mark, in one
 * batch too. A crash at any point leaves either the records or the mark, never neither: the mark
 * is what `gameday sweep` finds once Temporal has lost the run.
 */
import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { z } from 'zod';
import { parseDuration } from '../../experiment/duration';
import { Duration } from '../../experiment/primitives';
import { aws, awsFailure, isNotFound, route53 } from '../aws';
import { AwsLocation, type AwsLocationPlan } from '../aws-location';
import { type FaultProvider, type RawIssue, refused } from '../fault-provider';
import {
  bareZoneId,
  changeZone,
  fqdn,
  markName,
  markRecordSet,
  readMark,
  recordSetsOf,
  sameRecordSets,
  type VoidMark,
  type ZoneAt,
} from './route53-records';

const DnsName = z
  .string()
  .regex(
    /^(?=.{1,254}$)([a-zA-Z0-9_*]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?\.)*[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?\.?$/,
    'a DNS name such as dynamodb.us-east-1.amazonaws.com',
  );

/** NS and SOA are the zone's own: emptying them breaks the zone, not a name. */
const RecordType = z.enum([
  'A',
  'AAAA',
  'CNAME',
  'TXT',
  'MX',
  'SRV',
  'PTR',
  'CAA',
  'NAPTR',
  'SPF',
  'HTTPS',
  'SVCB',
]);

export const Route53Fault = z
  .strictObject({
    hostedZoneId: z
      .string()
      .regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, 'a hosted zone id such as Z0123456789ABCDEFGHIJ')
      .optional()
      .describe('The hosted zone; or zoneName'),
    zoneName: DnsName.optional().describe('The hosted zone by its name; or hostedZoneId'),
    privateZone: z
      .boolean()
      .optional()
      .describe('With zoneName: only a private (true) or public (false) zone of that name'),
    name: DnsName.describe('The record set to empty, e.g. dynamodb.us-east-1.amazonaws.com'),
    type: RecordType.default('A'),
    waitFor: Duration.default('2m').describe('How long inject and revert wait for the change to be INSYNC'),
  })
  .describe(
    'Empty a Route 53 record set (every set identifier of its name and type); revert puts the saved records back',
  );
export type Route53Fault = z.infer<typeof Route53Fault>;

export const Route53Handle = z.object({
  ...AwsLocation,
  hostedZoneId: z.string().nullable(),
  zoneName: z.string().nullable(),
  privateZone: z.boolean().nullable(),
  name: z.string(),
  type: z.string(),
  runId: z.string(),
  fault: z.string(),
  waitForMs: z.number(),
  /** The record sets as they were before the inject, exactly as Route 53 listed them; null until resolved. */
  recordSets: z.array(z.record(z.string(), z.unknown())).nullable(),
  /** The TXT record beside the emptied name, while it is empty; null until resolved. */
  markName: z.string().nullable(),
});
export type Route53Handle = z.infer<typeof Route53Handle>;

function route53Issues(raw: Record<string, unknown>, path: (string | number)[]): RawIssue[] {
  const byId = raw.hostedZoneId !== undefined;
  const byName = raw.zoneName !== undefined;
  if (byId === byName) {
    return [{ path, message: 'give the hosted zone as exactly one of hostedZoneId or zoneName' }];
  }
  if (byId && raw.privateZone !== undefined) {
    return [{ path: [...path, 'privateZone'], message: 'privateZone chooses among zones named zoneName' }];
  }
  return [];
}

/** Finds the zone (by id, or by name and privacy) and checks the name is in it. */
async function findZone(handle: Route53Handle, fault: string) {
  const { sdk, client } = await route53(handle);
  if (handle.hostedZoneId) {
    const id = handle.hostedZoneId;
    try {
      const answer = await client.send(new sdk.GetHostedZoneCommand({ Id: id }));
      return {
        id,
        name: fqdn(answer.HostedZone?.Name ?? ''),
        private: answer.HostedZone?.Config?.PrivateZone ?? false,
      };
    } catch (error) {
      if (isNotFound(error) || (error as Error).name === 'NoSuchHostedZone') {
        throw refused(`fault ${fault}: no Route 53 hosted zone ${id}`);
      }
      throw awsFailure(error, `route53 GetHostedZone ${id}`);
    }
  }
  const wanted = fqdn(handle.zoneName ?? '');
  const zones = [];
  let marker: { name?: string; id?: string } = { name: wanted };
  for (;;) {
    const page = await aws('route53 ListHostedZonesByName', () =>
      client.send(new sdk.ListHostedZonesByNameCommand({ DNSName: marker.name, HostedZoneId: marker.id })),
    );
    const named = (page.HostedZones ?? []).filter((zone) => fqdn(zone.Name ?? '') === wanted);
    zones.push(...named);
    if (!page.IsTruncated || named.length < (page.HostedZones ?? []).length) break;
    marker = { name: page.NextDNSName, id: page.NextHostedZoneId };
  }
  const matching = zones.filter(
    (zone) => handle.privateZone === null || (zone.Config?.PrivateZone ?? false) === handle.privateZone,
  );
  const which = handle.privateZone === null ? '' : handle.privateZone ? 'private ' : 'public ';
  if (matching.length === 0) throw refused(`fault ${fault}: no ${which}Route 53 hosted zone named ${wanted}`);
  if (matching.length > 1) {
    throw refused(
      `fault ${fault}: ${matching.length} ${which}hosted zones are named ${wanted} ` +
        `(${matching.map((z) => bareZoneId(z.Id ?? '')).join(', ')}): give hostedZoneId`,
    );
  }
  const zone = matching[0];
  return { id: bareZoneId(zone?.Id ?? ''), name: wanted, private: zone?.Config?.PrivateZone ?? false };
}

async function resolveRoute53(handle: Route53Handle, fault: string): Promise<Route53Handle> {
  const zone = await findZone(handle, fault);
  const name = fqdn(handle.name);
  const where = `${zone.private ? 'private' : 'public'} hosted zone ${zone.id} (${zone.name})`;
  if (name !== zone.name && !name.endsWith(`.${zone.name}`)) {
    throw refused(`fault ${fault}: ${name} is not in the ${where}`);
  }
  const at: ZoneAt = { ...location(handle), hostedZoneId: zone.id };
  const sets = await recordSetsOf(at, name, handle.type);
  if (sets.length === 0) {
    throw refused(`fault ${fault}: no ${handle.type} record ${name} in the ${where}: nothing to empty`);
  }
  return {
    ...handle,
    hostedZoneId: zone.id,
    zoneName: zone.name,
    privateZone: zone.private,
    name,
    recordSets: sets as unknown as Record<string, unknown>[],
    markName: markName(zone.name, name, handle.type),
  };
}

const location = (handle: AwsLocationPlan): AwsLocationPlan => ({
  region: handle.region,
  ...(handle.endpoint ? { endpoint: handle.endpoint } : {}),
});

function resolved(handle: Route53Handle) {
  if (!handle.hostedZoneId || !handle.recordSets || !handle.markName) {
    throw refused('the Route 53 record was not resolved before inject');
  }
  return {
    at: { ...location(handle), hostedZoneId: handle.hostedZoneId } as ZoneAt,
    saved: handle.recordSets as unknown as ResourceRecordSet[],
    markName: handle.markName,
  };
}

/** The mark on the zone for this name and type, whoever's it is. */
async function currentMark(
  at: ZoneAt,
  name: string,
): Promise<{ set: ResourceRecordSet; mark: VoidMark } | null> {
  const [set] = await recordSetsOf(at, name, 'TXT');
  const mark = set ? readMark(set) : null;
  return set && mark ? { set, mark } : null;
}

export async function injectRoute53(
  handle: Route53Handle,
  beforeChange: () => void,
  signal?: AbortSignal,
): Promise<Route53Handle> {
  const { at, saved, markName } = resolved(handle);
  const current = await recordSetsOf(at, handle.name, handle.type);
  const mark = markRecordSet(markName, {
    runId: handle.runId,
    fault: handle.fault,
    hostedZoneId: at.hostedZoneId,
    name: handle.name,
    type: handle.type,
    recordSets: saved,
  });
  if (current.length === 0) {
    // Already empty. The batch that empties it writes this run's mark with it, so only the mark
    // says the run did it (an earlier attempt); empty without it is someone else's doing.
    const existing = await currentMark(at, markName);
    if (existing?.mark.runId === handle.runId) return handle;
    throw refused(
      `${handle.type} ${handle.name} was emptied by ${existing ? `run ${existing.mark.runId}` : 'someone else'} ` +
        'after the run resolved it: nothing injected',
    );
  }
  if (!sameRecordSets(current, saved)) {
    throw refused(
      `${handle.type} ${handle.name} changed after the run resolved it (someone edited the record): nothing injected`,
    );
  }
  const changes: Change[] = [
    { Action: 'UPSERT', ResourceRecordSet: mark },
    ...current.map((set): Change => ({ Action: 'DELETE', ResourceRecordSet: set })),
  ];
  beforeChange();
  await changeZone(at, changes, voidComment(handle), handle.waitForMs, signal);
  return handle;
}

const voidComment = (h: Route53Handle) =>
  `gameday run ${h.runId} fault ${h.fault}: empty ${h.type} ${h.name}`;

/**
 * Puts the saved record sets back (UPSERT) and removes the mark, in one batch. Record sets someone
 * recreated meanwhile with other values are left as they are, and the note says so: the revert
 * does not undo a person's repair.
 */
export async function revertRoute53(
  handle: Route53Handle,
  signal?: AbortSignal,
): Promise<{ alreadyGone: boolean; note?: string }> {
  if (!handle.hostedZoneId || !handle.recordSets || !handle.markName) return { alreadyGone: true };
  const { at, saved, markName } = resolved(handle);
  const current = await recordSetsOf(at, handle.name, handle.type);
  const existing = await currentMark(at, markName);
  const ours = existing && existing.mark.runId === handle.runId ? existing.set : null;
  const empty = current.length === 0;
  const changes: Change[] = [
    ...(empty ? saved.map((set): Change => ({ Action: 'UPSERT', ResourceRecordSet: set })) : []),
    ...(ours ? [{ Action: 'DELETE', ResourceRecordSet: ours } as Change] : []),
  ];
  const note =
    !empty && !sameRecordSets(current, saved)
      ? `${handle.type} ${handle.name} was recreated by someone else with other values: left as it is`
      : undefined;
  if (changes.length === 0) return { alreadyGone: true, ...(note ? { note } : {}) };
  await changeZone(
    at,
    changes,
    `gameday run ${handle.runId} fault ${handle.fault}: restore ${handle.type} ${handle.name}`,
    handle.waitForMs,
    signal,
  );
  return { alreadyGone: !empty, ...(note ? { note } : {}) };
}

/** What a record set answers, in a few words: "TTL 5: 127.0.0.1". */
export function recordText(set: Record<string, unknown>): string {
  const s = set as unknown as ResourceRecordSet;
  const values = s.AliasTarget
    ? `alias ${s.AliasTarget.DNSName}`
    : (s.ResourceRecords ?? []).map((r) => r.Value).join(', ');
  const id = s.SetIdentifier ? ` [${s.SetIdentifier}]` : '';
  return `${s.TTL !== undefined ? `TTL ${s.TTL}: ` : ''}${values}${id}`;
}

function describeRoute53(h: Route53Handle): string {
  const zone = h.hostedZoneId
    ? `${h.privateZone ? 'private' : 'public'} zone ${h.hostedZoneId} (${h.zoneName})`
    : `zone ${h.zoneName ?? '?'} (not resolved yet)`;
  const saved = h.recordSets ? `, ${h.recordSets.length} record set(s) saved` : '';
  return `route53 empty ${h.type} ${fqdn(h.name)} in ${zone}${saved}`;
}

export const route53Fault = {
  spec: Route53Fault,
  handle: Route53Handle,
  usesAws: true,
  issues: (raw, path) => route53Issues(raw, path),
  plan: (spec, ctx) => ({
    ...ctx.aws.location('route53'),
    hostedZoneId: spec.hostedZoneId ? bareZoneId(spec.hostedZoneId) : null,
    zoneName: spec.zoneName ? fqdn(spec.zoneName) : null,
    privateZone: spec.privateZone ?? null,
    name: fqdn(spec.name),
    type: spec.type,
    runId: ctx.runId,
    fault: ctx.fault,
    waitForMs: parseDuration(spec.waitFor),
    recordSets: null,
    markName: null,
  }),
  async resolve(handle, ctx) {
    const resolvedHandle = await resolveRoute53(handle, ctx.fault);
    return {
      handle: resolvedHandle,
      lockKeys: [`route53/${resolvedHandle.hostedZoneId}/${resolvedHandle.name}/${resolvedHandle.type}`],
    };
  },
  inject: (handle, ctx) => injectRoute53(handle, ctx.beforeChange, ctx.signal),
  revert: (handle, ctx) => revertRoute53(handle, ctx.signal),
  describe: describeRoute53,
  async planLines(h, fault) {
    return [
      `${fault}: ${describeRoute53(h)}`,
      `  empties: ${(h.recordSets ?? []).map(recordText).join('; ')}`,
      `  while empty, TXT ${h.markName} names the run and holds the saved records (gameday sweep restores from it)`,
      '  revert UPSERTs the saved record sets back; resolvers see the name again once their negative cache expires',
    ];
  },
} satisfies FaultProvider<typeof Route53Fault, typeof Route53Handle>;
