/**
 * Route 53's marks: a record set the `route53` fault emptied has a TXT record beside it
 * (`_gameday-void-*`, src/providers/faults/route53-records.ts) that names the run and holds the
 * saved record sets. One whose run is gone is reverted from what the mark holds; a TXT record that
 * is not a readable mark is not gameday's. Route 53 is global: every hosted zone is read.
 */
import type { HostedZone } from '@aws-sdk/client-route-53';
import type { AwsLocationPlan } from '../experiment/plan';
import { aws, route53 } from '../providers/aws';
import { revertRoute53 } from '../providers/faults/route53';
import { allRecordSets, bareZoneId, readMark } from '../providers/faults/route53-records';
import type { MarkedFault, SweepSource } from './marks';

const WAIT_FOR_MS = 120_000;

export function route53Source(location: AwsLocationPlan): SweepSource {
  return {
    name: `Route 53${location.endpoint ? ` at ${location.endpoint}` : ''}`,
    async find() {
      const found: MarkedFault[] = [];
      for (const zone of await hostedZones(location)) {
        const hostedZoneId = bareZoneId(zone.Id ?? '');
        for (const set of await allRecordSets({ ...location, hostedZoneId })) {
          const mark = readMark(set);
          if (!mark) continue;
          const what = `${mark.type} ${mark.name} in hosted zone ${hostedZoneId}`;
          found.push({
            provider: 'route53',
            runId: mark.runId,
            fault: mark.fault,
            target: `route53 ${hostedZoneId} ${mark.name} ${mark.type}`,
            what: `${what} emptied (mark ${set.Name}, ${mark.recordSets.length} record set(s) saved)`,
            revert: async () => {
              const { alreadyGone, note } = await revertRoute53({
                ...location,
                hostedZoneId,
                zoneName: zone.Name ?? null,
                privateZone: zone.Config?.PrivateZone ?? null,
                name: mark.name,
                type: mark.type,
                runId: mark.runId,
                fault: mark.fault,
                waitForMs: WAIT_FOR_MS,
                recordSets: mark.recordSets as unknown as Record<string, unknown>[],
                markName: set.Name ?? null,
              });
              if (note) return `${note}; removed the mark`;
              return alreadyGone ? `${what} was already there` : `restored ${what}`;
            },
          });
        }
      }
      return found;
    },
  };
}

async function hostedZones(location: AwsLocationPlan): Promise<HostedZone[]> {
  const { sdk, client } = await route53(location);
  const zones: HostedZone[] = [];
  let Marker: string | undefined;
  do {
    const page = await aws('route53 ListHostedZones', () =>
      client.send(new sdk.ListHostedZonesCommand({ Marker })),
    );
    zones.push(...(page.HostedZones ?? []));
    Marker = page.IsTruncated ? page.NextMarker : undefined;
  } while (Marker);
  return zones;
}
