/**
 * Everything a run checks and settles before the steady state, and so before any fault: the AWS
 * account against target.accounts, exactly what each fault will touch (each provider's resolve,
 * with its blast-radius rules), each provider's run-level preparation (Toxiproxy's declared
 * proxies), and the lock keys that keep overlapping runs apart. A refusal here is final and
 * nothing has been changed.
 */
import type { RunPlan } from '../src/experiment/plan';
import {
  bodyOf,
  describeHandle,
  FAULT_PROVIDERS,
  type FaultHandle,
  faultProviders,
  providerOf,
  withBody,
} from '../src/providers';
import { aws, sts } from '../src/providers/aws';
import { type FaultProvider, refused } from '../src/providers/fault-provider';
import { providerCall } from './attempt';

export type PrepareInput = Pick<RunPlan, 'providers' | 'phases' | 'aws' | 'maxBlastRadius'>;

export interface ResolvedTargets {
  account: { id: string; arn: string } | null;
  /** Every fault's handle with its targets resolved, in plan order. */
  resolved: FaultHandle[];
  /** What each resolved fault touches, in words, by fault name: the workflow names no provider. */
  descriptions?: Record<string, string>;
  /** What the run touches; a lock on each keeps two runs off the same targets. */
  lockKeys: string[];
}

export interface PrepareResult extends ResolvedTargets {
  createdProxies: string[];
}

export async function prepareRun(input: PrepareInput): Promise<PrepareResult> {
  return providerCall(async () => {
    const targets = await resolveTargets(input);
    const created: string[] = [];
    for (const key of FAULT_PROVIDERS) {
      const provider: FaultProvider = faultProviders[key];
      const settings = input.providers?.[key];
      if (!provider.prepareRun || settings === undefined) continue;
      const handles = faultsOf(input).filter((f) => f.provider === key);
      const prepared = await provider.prepareRun(handles.map(bodyOf), settings, {
        maxBlastRadius: input.maxBlastRadius,
      });
      created.push(...prepared.created);
    }
    return { ...targets, createdProxies: created };
  });
}

/** The read-only part of preparing, which `gameday plan` shows too: it changes nothing. */
export async function resolveTargets(input: Omit<PrepareInput, 'providers'>): Promise<ResolvedTargets> {
  const account = input.aws ? await checkAccount(input.aws) : null;
  const resolved: FaultHandle[] = [];
  const descriptions: Record<string, string> = {};
  const lockKeys = new Set<string>();
  for (const fault of faultsOf(input)) {
    const { handle, lockKeys: keys } = await providerOf(fault).resolve(bodyOf(fault), {
      fault: fault.name,
      maxBlastRadius: input.maxBlastRadius,
    });
    const full = withBody(fault, handle);
    resolved.push(full);
    descriptions[full.name] = describeHandle(full);
    for (const key of keys) lockKeys.add(key);
  }
  return { account, resolved, descriptions, lockKeys: [...lockKeys].sort() };
}

async function checkAccount(settings: NonNullable<RunPlan['aws']>): Promise<{ id: string; arn: string }> {
  const { sdk, client } = await sts(settings.sts);
  const identity = await aws('sts GetCallerIdentity', () =>
    client.send(new sdk.GetCallerIdentityCommand({})),
  );
  const account = { id: identity.Account ?? 'unknown', arn: identity.Arn ?? 'unknown' };
  if (settings.accounts && !settings.accounts.includes(account.id)) {
    throw refused(
      `the AWS credentials belong to account ${account.id} (${account.arn}), which is not in target.accounts ` +
        `(${settings.accounts.join(', ')}); nothing was run`,
    );
  }
  return account;
}

function faultsOf(input: Pick<RunPlan, 'phases'>): FaultHandle[] {
  return input.phases.flatMap((phase) => phase.faults);
}
