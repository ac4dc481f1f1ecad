/**
 * The contract every registered fault provider passes by being registered (src/providers/index.ts),
 * against the suite's real servers (Toxiproxy, moto): what the engine counts on when it retries an
 * inject, reverts after a crash, or refuses a run. Each provider's real target comes from
 * fixtures.ts; a provider with no entry there fails here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FAULT_PROVIDERS, faultProviders } from '../../src/providers';
import {
  type FaultProvider,
  type InjectContext,
  isProviderFailure,
} from '../../src/providers/fault-provider';
import { uniqueName } from '../helpers';
import { type ContractTarget, fixtures } from './fixtures';

const FAULT = 'contract-fault';

const live = (): InjectContext => ({
  fault: FAULT,
  beforeChange: () => undefined,
  firstAttempt: true,
  signal: new AbortController().signal,
});

/** What the engine does before an inject: plan the file's spec for the run, prepare, resolve. */
async function planned(provider: FaultProvider, target: ContractTarget, spec: unknown, runId: string) {
  const settingsSpec = provider.settings?.spec.parse(target.settings ?? {});
  const handle = provider.plan(provider.spec.parse(spec), {
    runId,
    fault: FAULT,
    env: {},
    settings: settingsSpec,
    aws: target.aws,
  });
  const runSettings = provider.settings?.plan(settingsSpec, true, {
    runId,
    env: {},
    settings: undefined,
    aws: target.aws,
  });
  await provider.prepareRun?.([handle], runSettings, { maxBlastRadius: target.maxBlastRadius });
  return (await provider.resolve(handle, { fault: FAULT, maxBlastRadius: target.maxBlastRadius })).handle;
}

for (const name of FAULT_PROVIDERS) {
  const provider: FaultProvider = faultProviders[name];
  const fixture = (fixtures as Partial<typeof fixtures>)[name];

  describe(`the ${name} fault provider`, () => {
    it('has a contract fixture (test/contract/fixtures.ts)', () => {
      expect(fixture, `registered provider ${name} has no entry in test/contract/fixtures.ts`).toBeDefined();
    });
    if (!fixture) return;

    let target: ContractTarget | undefined;
    const setUp = async () => {
      target = await fixture.setUp();
      return target;
    };
    afterEach(async () => {
      await target?.tearDown();
      target = undefined;
    });

    it('injected twice, is in place once; reverted twice, is gone, the second revert finding it gone', async () => {
      const t = await setUp();
      const runId = uniqueName('contract');
      const handle = await planned(provider, t, t.spec, runId);
      const first = await provider.inject(handle, live());
      const second = await provider.inject(first, { ...live(), firstAttempt: false });
      expect(await t.inPlace(runId)).toBe(1);

      const reverted = await provider.revert(second, live());
      expect(reverted.alreadyGone).toBe(false);
      expect(await t.inPlace(runId)).toBe(0);
      const again = await provider.revert(reverted.handle ?? second, live());
      expect(again.alreadyGone).toBe(true);
      expect(await t.inPlace(runId)).toBe(0);
    });

    it('reverting a fault never injected changes nothing and says it was already gone', async () => {
      const t = await setUp();
      const runId = uniqueName('contract');
      const handle = await planned(provider, t, t.spec, runId);
      const before = await t.world(runId);
      expect((await provider.revert(handle, live())).alreadyGone).toBe(true);
      expect(await t.world(runId)).toEqual(before);
    });

    it('an attempt that outlived its timeout applies nothing when it lands late', async () => {
      const t = await setUp();
      const runId = uniqueName('contract');
      const handle = await planned(provider, t, t.spec, runId);
      const before = await t.world(runId);
      const stale = new Error('stale attempt');
      const late = provider.inject(handle, {
        ...live(),
        beforeChange: () => {
          throw stale;
        },
      });
      await expect(late).rejects.toBe(stale);
      expect(await t.world(runId)).toEqual(before);
      expect(await t.inPlace(runId)).toBe(0);
    });

    it('refuses a target that does not exist before changing anything', async () => {
      const t = await setUp();
      const runId = uniqueName('contract');
      const before = await t.world(runId);
      const error = await planned(provider, t, t.missing, runId)
        .then((handle) => provider.inject(handle, live()))
        .then(
          () => null,
          (thrown: unknown) => thrown,
        );
      expect(isProviderFailure(error) ? error.kind : error).toBe('refused');
      expect(await t.world(runId)).toEqual(before);
    });

    it('describes what it touches, in plan and journal, without a secret from the environment', async () => {
      const t = await setUp();
      const runId = uniqueName('contract');
      const secret = `s3cr3t-${runId}`;
      const planted = { GAMEDAY_SECRET_CONTRACT: secret, AWS_SESSION_TOKEN: secret };
      const saved = Object.fromEntries(Object.keys(planted).map((key) => [key, process.env[key]]));
      Object.assign(process.env, planted);
      try {
        const handle = await planned(provider, t, t.spec, runId);
        const text = [provider.describe(handle), ...((await provider.planLines?.(handle, FAULT)) ?? [])];
        expect(text.join('\n').length).toBeGreaterThan(0);
        for (const line of text) expect(line).not.toContain(secret);
      } finally {
        for (const [key, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      }
    });
  });
}
