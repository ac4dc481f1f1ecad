/**
 * The route53 fault's void mark: what the sweep reads back to restore a record set after Temporal
 * has lost the run. It must survive Route 53's TXT limits (255 characters a string, 4,000 a value)
 * for record sets of any size, and a TXT record that is not gameday's must never read as a mark.
 */
import type { ResourceRecordSet } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { markName, markRecordSet, readMark, type VoidMark } from '../../src/providers/faults/route53-records';

const mark = (recordSets: ResourceRecordSet[]): VoidMark => ({
  runId: 'run-1',
  fault: 'name-void',
  hostedZoneId: 'Z0123456789ABC',
  name: 'dynamodb.us-east-1.amazonaws.com.',
  type: 'A',
  recordSets,
});

describe('the void mark', () => {
  it('reads back what it holds, within TXT limits, for a small and a large record set', () => {
    const small = mark([
      {
        Name: 'dynamodb.us-east-1.amazonaws.com.',
        Type: 'A',
        TTL: 5,
        ResourceRecords: [{ Value: '10.0.0.1' }],
      },
    ]);
    // 40 weighted record sets: several TXT values, read back in order even when listed shuffled.
    const large = mark(
      Array.from({ length: 40 }, (_, i) => ({
        Name: 'dynamodb.us-east-1.amazonaws.com.',
        Type: 'A' as const,
        SetIdentifier: `endpoint-${i}`,
        Weight: i,
        TTL: 5,
        ResourceRecords: [{ Value: `10.0.${i}.1` }, { Value: `10.0.${i}.2` }],
      })),
    );
    for (const held of [small, large]) {
      const set = markRecordSet(markName('us-east-1.amazonaws.com', held.name, 'A'), held);
      for (const record of set.ResourceRecords ?? []) {
        expect(record.Value?.length).toBeLessThanOrEqual(4_000);
        for (const string of record.Value?.match(/"[^"]*"/g) ?? [])
          expect(string.length - 2).toBeLessThanOrEqual(255);
      }
      const shuffled = { ...set, ResourceRecords: [...(set.ResourceRecords ?? [])].reverse() };
      expect(readMark(shuffled)).toEqual(held);
    }
    const parts = markRecordSet(markName('us-east-1.amazonaws.com', large.name, 'A'), large).ResourceRecords;
    expect(parts?.length).toBeGreaterThan(1);
  });

  it('is one name per emptied name and type, under the zone apex, and nothing else reads as one', () => {
    const a = markName('us-east-1.amazonaws.com.', 'DynamoDB.us-east-1.amazonaws.com', 'A');
    expect(a).toMatch(/^_gameday-void-[0-9a-f]{16}\.us-east-1\.amazonaws\.com\.$/);
    expect(markName('us-east-1.amazonaws.com', 'dynamodb.us-east-1.amazonaws.com.', 'A')).toBe(a);
    expect(markName('us-east-1.amazonaws.com', 'dynamodb.us-east-1.amazonaws.com', 'AAAA')).not.toBe(a);
    expect(
      readMark({ Name: a, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"v=spf1 -all"' }] }),
    ).toBeNull();
    expect(
      readMark({
        Name: 'www.example.com.',
        Type: 'TXT',
        TTL: 60,
        ResourceRecords: [{ Value: '"gameday-void"' }],
      }),
    ).toBeNull();
    expect(
      readMark({
        Name: a,
        Type: 'TXT',
        TTL: 60,
        ResourceRecords: [{ Value: '"gameday-void" "run=x" "fault=y" "part=1/1" "bm90IGpzb24="' }],
      }),
    ).toBeNull();
  });
});
