/**
 * Route 53 record sets for the `route53` fault and its sweep: reading one name and type (every set
 * identifier of it), changing a zone in one atomic batch, and the void mark, a TXT record beside
 * the emptied name that says which run emptied it and holds the record sets it saved, so the
 * sweep can put them back after Temporal has forgotten the run.
 */
import { createHash } from 'node:crypto';
import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { aws, route53, waitUntil } from '../aws';
import type { AwsLocationPlan } from '../aws-location';

export interface ZoneAt extends AwsLocationPlan {
  hostedZoneId: string;
}

/** A DNS name as Route 53 lists it: lower case, with the trailing dot. */
export const fqdn = (name: string) => name.toLowerCase().replace(/\.?$/, '.');

/** `/hostedzone/Z123` and `Z123` are the same zone; the bare id is what handles and locks keep. */
export const bareZoneId = (id: string) => id.replace(/^\/?hostedzone\//, '');

/** Every record set of exactly this name and type (one per set identifier), as Route 53 lists them. */
export async function recordSetsOf(at: ZoneAt, name: string, type: string): Promise<ResourceRecordSet[]> {
  const { sdk, client } = await route53(at);
  const wanted = fqdn(name);
  const found: ResourceRecordSet[] = [];
  let start: { name?: string; type?: string; identifier?: string } = { name: wanted, type };
  for (;;) {
    const page = await aws(`route53 ListResourceRecordSets ${at.hostedZoneId}`, () =>
      client.send(
        new sdk.ListResourceRecordSetsCommand({
          HostedZoneId: at.hostedZoneId,
          StartRecordName: start.name,
          StartRecordType: start.type as never,
          StartRecordIdentifier: start.identifier,
        }),
      ),
    );
    const sets = page.ResourceRecordSets ?? [];
    const ours = sets.filter((set) => fqdn(set.Name ?? '') === wanted && set.Type === type);
    found.push(...ours);
    // Listed in order from the start name: once a page holds another name or type, this one is done.
    if (!page.IsTruncated || ours.length < sets.length) return found;
    start = { name: page.NextRecordName, type: page.NextRecordType, identifier: page.NextRecordIdentifier };
  }
}

/** Every record set of a zone (the sweep reads whole zones for marks). */
export async function allRecordSets(at: ZoneAt): Promise<ResourceRecordSet[]> {
  const { sdk, client } = await route53(at);
  const found: ResourceRecordSet[] = [];
  let start: { name?: string; type?: string; identifier?: string } = {};
  for (;;) {
    const page = await aws(`route53 ListResourceRecordSets ${at.hostedZoneId}`, () =>
      client.send(
        new sdk.ListResourceRecordSetsCommand({
          HostedZoneId: at.hostedZoneId,
          StartRecordName: start.name,
          StartRecordType: start.type as never,
          StartRecordIdentifier: start.identifier,
        }),
      ),
    );
    found.push(...(page.ResourceRecordSets ?? []));
    if (!page.IsTruncated) return found;
    start = { name: page.NextRecordName, type: page.NextRecordType, identifier: page.NextRecordIdentifier };
  }
}

/**
 * One atomic change batch (Route 53 applies all of it or none), then waits until it is INSYNC on
 * Route 53's name servers: only then do resolvers see it.
 */
export async function changeZone(
  at: ZoneAt,
  changes: Change[],
  comment: string,
  waitForMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const { sdk, client } = await route53(at);
  const answer = await aws(`route53 ChangeResourceRecordSets ${at.hostedZoneId}`, () =>
    client.send(
      new sdk.ChangeResourceRecordSetsCommand({
        HostedZoneId: at.hostedZoneId,
        ChangeBatch: { Comment: comment, Changes: changes },
      }),
    ),
  );
  const id = answer.ChangeInfo?.Id;
  if (!id || answer.ChangeInfo?.Status === 'INSYNC') return;
  await waitUntil(
    `route53 change ${id} to be INSYNC`,
    waitForMs,
    async () => {
      const now = await aws(`route53 GetChange ${id}`, () =>
        client.send(new sdk.GetChangeCommand({ Id: id })),
      );
      return now.ChangeInfo?.Status === 'INSYNC' ? true : undefined;
    },
    signal,
    2_000,
  );
}

/** Same content, whatever the order Route 53 lists them in. */
export function sameRecordSets(a: ResourceRecordSet[], b: ResourceRecordSet[]): boolean {
  const key = (sets: ResourceRecordSet[]) => sets.map(canonical).sort().join('\n');
  return key(a) === key(b);
}

function canonical(set: ResourceRecordSet): string {
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .filter(([, v]) => v !== undefined)
              .sort(([x], [y]) => x.localeCompare(y))
              .map(([k, v]) => [k, sorted(v)]),
          )
        : value;
  return JSON.stringify(sorted({ ...set, Name: fqdn(set.Name ?? '') }));
}

// ---------------------------------------------------------------------------------------------
// The void mark.

export const MARK_PREFIX = '_gameday-void-';
const MARK_TAG = 'gameday-void';
/** Route 53 holds at most 255 characters per TXT string and 4,000 per value. */
const STRING_CHARS = 255;
const STRINGS_PER_VALUE = 14;

/** What the mark says: enough to put the record sets back with nothing but Route 53 to read. */
export interface VoidMark {
  runId: string;
  fault: string;
  hostedZoneId: string;
  name: string;
  type: string;
  recordSets: ResourceRecordSet[];
}

/**
 * The mark's name: one per emptied name and type, directly under the zone's apex (a child of the
 * emptied name would make it an empty non-terminal, answering NODATA where the outage answered
 * NXDOMAIN).
 */
export function markName(zoneName: string, name: string, type: string): string {
  const hash = createHash('sha256')
    .update(`${fqdn(name)} ${type}`)
    .digest('hex')
    .slice(0, 16);
  return `${MARK_PREFIX}${hash}.${fqdn(zoneName)}`;
}

export function markRecordSet(name: string, mark: VoidMark): ResourceRecordSet {
  const chunks =
    Buffer.from(JSON.stringify(mark))
      .toString('base64')
      .match(/.{1,255}/g) ?? [];
  const values: string[][] = [];
  for (let i = 0; i < chunks.length; i += STRINGS_PER_VALUE)
    values.push(chunks.slice(i, i + STRINGS_PER_VALUE));
  const parts = values.length;
  return {
    Name: name,
    Type: 'TXT',
    TTL: 60,
    ResourceRecords: values.map((strings, index) => ({
      // Readable in the console: which run, which fault; the rest is the saved records, base64.
      Value: [MARK_TAG, `run=${mark.runId}`, `fault=${mark.fault}`, `part=${index + 1}/${parts}`, ...strings]
        .map((s) => `"${s.slice(0, STRING_CHARS)}"`)
        .join(' '),
    })),
  };
}

/** The mark a TXT record set holds, or null when it is not one of gameday's (or is unreadable). */
export function readMark(set: ResourceRecordSet): VoidMark | null {
  if (set.Type !== 'TXT' || !fqdn(set.Name ?? '').startsWith(MARK_PREFIX)) return null;
  const parts = (set.ResourceRecords ?? [])
    .map((record) => [...(record.Value ?? '').matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? ''))
    .filter((strings) => strings[0] === MARK_TAG)
    .map((strings) => ({
      index: Number(/^part=(\d+)\//.exec(strings[3] ?? '')?.[1]),
      data: strings.slice(4),
    }))
    .sort((a, b) => a.index - b.index);
  if (parts.length === 0) return null;
  try {
    const mark = JSON.parse(
      Buffer.from(parts.flatMap((p) => p.data).join(''), 'base64').toString('utf8'),
    ) as VoidMark;
    return typeof mark.runId === 'string' && Array.isArray(mark.recordSets) ? mark : null;
  } catch {
    return null;
  }
}
