/** What a run locks: overlapping EC2 selections and FIS templates must share a key. */
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { FaultHandle } from '../../src/providers';
import { ec2LockKeys } from '../../src/providers/faults/aws-ec2';
import { fisLockKeys } from '../../src/providers/faults/aws-fis';
import { toxiproxyLockKeys } from '../../src/providers/faults/toxiproxy';
import { serverIdentities } from '../../src/providers/server-identity';

/** Each provider's lock keys for a handle (what its resolve returns once the targets are known). */
function lockKeysOf(handle: FaultHandle, servers: Record<string, string[]> = {}): string[] {
  switch (handle.provider) {
    case 'awsEc2':
      return ec2LockKeys(handle.awsEc2);
    case 'awsFis':
      return fisLockKeys(handle.awsFis);
    case 'toxiproxy':
      return toxiproxyLockKeys(handle.toxiproxy, servers[handle.toxiproxy.url]);
    default:
      throw new Error(`no lock keys test for ${(handle as FaultHandle).provider}`);
  }
}

const ec2 = (matched: string[]): FaultHandle => ({
  name: 'f',
  phase: 'p',
  provider: 'awsEc2',
  awsEc2: {
    region: 'us-east-1',
    action: 'stop',
    selector: { tags: { app: 'orders' } },
    selection: 'COUNT(1)',
    allowEmpty: false,
    waitForMs: 1,
    seed: 'r/f',
    instances: [{ id: matched[0] ?? '', priorState: 'running' }],
    candidates: matched.length,
    matched,
  },
});

const fis = (templateId: string | null, targets: object): FaultHandle => ({
  name: 'f',
  phase: 'p',
  provider: 'awsFis',
  awsFis: {
    region: 'us-east-1',
    templateId,
    template: templateId ? null : { targets },
    clientToken: 't',
    tags: {},
    waitForMs: 1,
    experimentId: null,
    createdTemplateId: null,
    irreversible: false,
    matched: ['i-9'],
  },
});

describe('lock keys', () => {
  it('cover every instance an EC2 selection matches, not only the chosen ones', () => {
    expect(lockKeysOf(ec2(['i-1', 'i-2']))).toEqual(['ec2/us-east-1/i-1', 'ec2/us-east-1/i-2']);
  });

  it('name an FIS template by id, or an inline one by its targets', () => {
    expect(lockKeysOf(fis('EXT123', {}))).toEqual(['fis-template/us-east-1/EXT123', 'ec2/us-east-1/i-9']);
    const a = lockKeysOf(fis(null, { orders: { resourceTags: { app: 'orders' } } }));
    const b = lockKeysOf(fis(null, { orders: { resourceTags: { app: 'orders' } } }));
    const c = lockKeysOf(fis(null, { orders: { resourceTags: { app: 'payments' } } }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('name a Toxiproxy server by what it is, not by how its URL is spelt', async () => {
    const keys = async (url: string) => {
      const proxy: FaultHandle = {
        name: 'f',
        phase: 'p',
        provider: 'toxiproxy',
        toxiproxy: { action: 'down', url, proxy: 'shopify_test_redis_master' },
      };
      return lockKeysOf(proxy, { [url]: await serverIdentities(url) });
    };
    const loopback = await keys('http://127.0.0.1:27474');
    expect(loopback).toHaveLength(1);
    for (const spelling of [
      'http://localhost:27474',
      'http://localhost:27474/',
      'http://LOCALHOST:27474//',
      'http://[::1]:27474',
      'http://127.0.0.2:27474/some/path',
      'https://127.0.0.1:27474',
    ]) {
      expect(await keys(spelling), spelling).toEqual(loopback);
    }
    // This machine's own interface address reaches the same server as loopback does.
    const own = Object.values(networkInterfaces())
      .flatMap((entries) => entries ?? [])
      .find((entry) => entry.family === 'IPv4' && !entry.internal);
    if (own) expect(await keys(`http://${own.address}:27474`)).toEqual(loopback);
    // Another port is another server; the scheme's port is the default.
    expect(await keys('http://localhost:27475')).not.toEqual(loopback);
    expect(await keys('http://localhost')).toEqual(await keys('http://127.0.0.1:80/'));
    expect(await keys('https://localhost')).toEqual(await keys('http://127.0.0.1:443'));
    expect(await keys('http://192.0.2.7:8474/')).toEqual([
      'toxiproxy/192.0.2.7:8474/shopify_test_redis_master',
    ]);
  });
});
