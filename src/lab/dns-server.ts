/**
 * The lab's DNS server: authoritative for Route 53 hosted zones on moto (us-east-1's DynamoDB name,
 * and us-west-2's in the multi-region lab), answering each query from its zone as moto holds it
 * at that moment, with the record's own TTL. So when the `route53`
 * fault empties a record set, the next query for it is NXDOMAIN (nothing left at the name) or
 * NODATA (other types left), as October 20's resolvers answered for DynamoDB's name. The wire
 * protocol is dns2's (npm); this file only decides the answers. UDP and TCP on one loopback port.
 *
 * Negative answers carry no SOA, so resolvers do not cache them (RFC 2308): the name answers again
 * as soon as its records are back, and the lab's own clients decide what they cache (builds.ts).
 */
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import dns2 from 'dns2';
import { freePort } from './ports';

const { Packet } = dns2;

export interface LabDnsServer {
  /** host:port, for a resolver's setServers. */
  address: string;
  port: number;
  stop(): Promise<void>;
}

export interface ZoneSource {
  /** moto's endpoint. */
  endpoint: string;
  hostedZoneId: string;
  /** The zone's name, with or without the trailing dot. */
  zoneName: string;
}

const fqdn = (name: string) => name.toLowerCase().replace(/\.?$/, '.');

/** How often the server reads the zone from moto: well under the record's TTL. */
const ZONE_REFRESH_MS = 250;

export async function startLabDns(
  zones: ZoneSource | ZoneSource[],
  log: (line: string) => void = () => {},
): Promise<LabDnsServer> {
  const sources = [zones].flat();
  const route53 = new Route53Client({
    region: 'us-east-1',
    endpoint: sources[0]?.endpoint,
    credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
    maxAttempts: 1,
    // A read that hangs would stop the copy from ever catching up.
    requestHandler: { requestTimeout: 5_000 },
  });
  const apexes = sources.map((zone) => fqdn(zone.zoneName));

  /**
   * The zone as moto held it at the last read, read again every ZONE_REFRESH_MS in the background,
   * as a name server loads its zone: queries are answered from the copy at once, so a moto slowed
   * by a busy machine delays a change reaching the answers, never the answers themselves. A read
   * that fails keeps the last copy.
   */
  let copy: ResourceRecordSet[] = await readZones();
  let stopped = false;
  let refreshing: Promise<void> = Promise.resolve();
  const refresh = () => {
    if (stopped) return;
    refreshing = readZones().then(
      (sets) => {
        copy = sets;
      },
      (error: Error) => log(`dns: reading the zone from moto: ${error.message}`),
    );
    void refreshing.then(() => {
      if (!stopped) setTimeout(refresh, ZONE_REFRESH_MS).unref();
    });
  };
  setTimeout(refresh, ZONE_REFRESH_MS).unref();
  async function readZones(): Promise<ResourceRecordSet[]> {
    return (await Promise.all(sources.map(readZone))).flat();
  }
  async function readZone(zone: ZoneSource): Promise<ResourceRecordSet[]> {
    const sets: ResourceRecordSet[] = [];
    let start: { name?: string; type?: string; id?: string } = {};
    for (;;) {
      const page = await route53.send(
        new ListResourceRecordSetsCommand({
          HostedZoneId: zone.hostedZoneId,
          StartRecordName: start.name,
          StartRecordType: start.type as never,
          StartRecordIdentifier: start.id,
        }),
      );
      sets.push(...(page.ResourceRecordSets ?? []));
      if (!page.IsTruncated) return sets;
      start = { name: page.NextRecordName, type: page.NextRecordType, id: page.NextRecordIdentifier };
    }
  }
  const recordsAt = async (name: string) => copy.filter((set) => fqdn(set.Name ?? '') === name);

  const server = dns2.createServer({
    udp: { type: 'udp4' },
    tcp: true,
    handle: (request, send) => {
      void answer(request).then(send, (error: Error) => {
        log(`dns: ${error.message}`);
        const failed = Packet.createResponseFromRequest(request);
        failed.header.rcode = Packet.RCODE.SERVFAIL;
        return send(failed);
      });
    },
  });

  async function answer(request: dns2.Packet): Promise<dns2.Packet> {
    const response = Packet.createResponseFromRequest(request);
    const question = request.questions[0];
    if (!question) return response;
    const name = fqdn(question.name);
    if (!apexes.some((apex) => name === apex || name.endsWith(`.${apex}`))) {
      response.header.rcode = Packet.RCODE.REFUSED;
      return response;
    }
    response.header.aa = 1;
    const sets = await recordsAt(name);
    if (sets.length === 0) {
      response.header.rcode = Packet.RCODE.NXDOMAIN;
      return response;
    }
    const typeName = Packet.typeName(question.type);
    // A CNAME answers every type at its name; otherwise only the type asked for (NODATA if none).
    const matching = sets.filter((set) => set.Type === typeName || set.Type === 'CNAME');
    for (const set of matching) {
      for (const record of set.ResourceRecords ?? []) {
        response.answers.push(resource(question.name, set, record.Value ?? ''));
      }
    }
    return response;
  }

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server
          .listen({ udp: { port, address: '127.0.0.1' }, tcp: { port, address: '127.0.0.1' } })
          .then(() => {
            server.off('error', reject);
            resolve();
          }, reject);
      });
      const stop = async () => {
        stopped = true;
        await refreshing;
        await server.close();
      };
      return { address: `127.0.0.1:${port}`, port, stop };
    } catch (error) {
      // The port was taken between freePort and listen (UDP or TCP): close what did bind, try another.
      await Promise.race([server.close(), new Promise((resolve) => setTimeout(resolve, 200))]);
      if (attempt >= 3) throw error;
    }
  }
}

function resource(name: string, set: ResourceRecordSet, value: string): dns2.Packet.Resource {
  const base = { name, class: Packet.CLASS.IN, ttl: set.TTL ?? 0 };
  switch (set.Type) {
    case 'A':
      return { ...base, type: Packet.TYPE.A, address: value } as dns2.Packet.Resource;
    case 'AAAA':
      return { ...base, type: Packet.TYPE.AAAA, address: value } as dns2.Packet.Resource;
    case 'CNAME':
      return { ...base, type: Packet.TYPE.CNAME, domain: value.replace(/\.$/, '') } as dns2.Packet.Resource;
    case 'TXT':
      return {
        ...base,
        type: Packet.TYPE.TXT,
        data: [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? ''),
      } as dns2.Packet.Resource;
    default:
      throw new Error(`the lab's DNS server does not serve ${set.Type} records`);
  }
}

/**
 * The name the orders instances use for DynamoDB and its zone: October 20's own name, in a private
 * hosted zone of that name, as an account overrides it for its VPCs (with an interface endpoint):
 * experiments/aws/dynamodb-dns-void.yaml empties the same record in the lab and in an account.
 */
export const LAB_DNS = {
  zoneName: 'dynamodb.us-east-1.amazonaws.com',
  dynamodbName: 'dynamodb.us-east-1.amazonaws.com',
  /** The multi-region lab's second region: a zone of its own, which us-east-1's void leaves alone. */
  failoverZoneName: 'dynamodb.us-west-2.amazonaws.com',
  failoverName: 'dynamodb.us-west-2.amazonaws.com',
  /**
   * DynamoDB's real TTL is a few seconds; 2s keeps the same ratio to the lab's 10s void as a few
   * seconds to October 20's hours: cached answers run out early in the void.
   */
  ttlSeconds: 2,
};

/**
 * The lab's private hosted zone on moto with DynamoDB's name at its apex (A 127.0.0.1: the
 * `dynamodb` proxy listens on loopback, so the name leads through the proxy).
 */
export async function createLabZone(
  motoUrl: string,
  names: { zoneName: string; name: string } = { zoneName: LAB_DNS.zoneName, name: LAB_DNS.dynamodbName },
): Promise<ZoneSource> {
  const route53 = new Route53Client({
    region: 'us-east-1',
    endpoint: motoUrl,
    credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
  });
  const created = await route53.send(
    new CreateHostedZoneCommand({
      Name: names.zoneName,
      CallerReference: `gameday-lab-${names.zoneName}-${Date.now()}`,
      VPC: { VPCRegion: 'us-east-1', VPCId: 'vpc-0a1b2c3d4e5f60718' },
      HostedZoneConfig: { PrivateZone: true, Comment: "the gameday lab: DynamoDB's name" },
    }),
  );
  const hostedZoneId = (created.HostedZone?.Id ?? '').replace(/^\/hostedzone\//, '');
  await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: hostedZoneId,
      ChangeBatch: {
        Changes: [
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              Name: names.name,
              Type: 'A',
              TTL: LAB_DNS.ttlSeconds,
              ResourceRecords: [{ Value: '127.0.0.1' }],
            },
          },
        ],
      },
    }),
  );
  return { endpoint: motoUrl, hostedZoneId, zoneName: names.zoneName };
}
