/** Route 53 for the tests: hosted zones on moto, their records as moto lists them, and their removal. */
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  DeleteHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { onTestFinished } from 'vitest';
import { motoUrl, REGION } from './aws-helpers';

const route53 = (endpoint: string) => new Route53Client({ region: REGION, endpoint });

export async function createZone(name: string, options: { private?: boolean; endpoint?: string } = {}) {
  const endpoint = options.endpoint ?? motoUrl();
  const created = await route53(endpoint).send(
    new CreateHostedZoneCommand({
      Name: name,
      CallerReference: `${name}-${Date.now()}`,
      ...(options.private
        ? { VPC: { VPCRegion: REGION, VPCId: 'vpc-12345678' }, HostedZoneConfig: { PrivateZone: true } }
        : {}),
    }),
  );
  const id = (created.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  return {
    id,
    put: (set: ResourceRecordSet) =>
      route53(endpoint).send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: id,
          ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: set }] },
        }),
      ),
  };
}

/** Every record set of the zone but its NS and SOA, as moto lists them, in a stable order. */
export async function zoneRecords(id: string, endpoint = motoUrl()): Promise<ResourceRecordSet[]> {
  const answer = await route53(endpoint).send(new ListResourceRecordSetsCommand({ HostedZoneId: id }));
  return (answer.ResourceRecordSets ?? [])
    .filter((set) => set.Type !== 'NS' && set.Type !== 'SOA')
    .sort((a, b) => `${a.Name} ${a.Type}`.localeCompare(`${b.Name} ${b.Type}`));
}

export async function deleteZone(id: string, endpoint = motoUrl()): Promise<void> {
  const sets = await zoneRecords(id, endpoint);
  if (sets.length > 0) {
    await route53(endpoint).send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: id,
        ChangeBatch: { Changes: sets.map((set) => ({ Action: 'DELETE', ResourceRecordSet: set })) },
      }),
    );
  }
  await route53(endpoint).send(new DeleteHostedZoneCommand({ Id: id }));
}

/**
 * DynamoDB's name in a private hosted zone of that name, as experiments/aws/dynamodb-dns-void.yaml
 * expects in an account (and the lab has): removed when the test ends.
 */
export async function dynamodbZone(endpoint = motoUrl()) {
  const name = 'dynamodb.us-east-1.amazonaws.com';
  const zone = await createZone(name, { private: true, endpoint });
  onTestFinished(() => deleteZone(zone.id, endpoint));
  await zone.put({ Name: name, Type: 'A', TTL: 5, ResourceRecords: [{ Value: '127.0.0.1' }] });
  return zone;
}
