/** What a run locks: overlapping EC2 selections and FIS templates must share a key. */
import { describe, expect, it } from 'vitest';
import { lockKeysOf } from '../../activities/prepare';
import type { FaultHandle } from '../../src/report/journal';

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
});
