/**
 * Everything a run checks and settles before the steady state, and so before any fault: the AWS
 * account against target.accounts, exactly which instances and FIS templates each fault will
 * touch (with the blast-radius rules), the Toxiproxy proxies it needs, and the lock keys that keep
 * overlapping runs apart. A refusal here is final and nothing has been changed.
 */
import { createHash } from 'node:crypto';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ApplicationFailure } from '@temporalio/common';
import type { RunPlan } from '../src/experiment/plan';
import type { FaultHandle } from '../src/report/journal';
import { aws, stsClient } from './aws';
import { checkEc2Permissions } from './faults/aws-ec2';
import { resolveFis } from './faults/aws-fis';
import { resolveFault } from './faults/index';
import { ensureProxies, missingProxies } from './faults/toxiproxy';
import { refuseDisabledProxies } from './faults/toxiproxy-down';
import { serverIdentities } from './server-identity';

export type PrepareInput = Pick<RunPlan, 'toxiproxy' | 'phases' | 'aws' | 'maxBlastRadius'>;

export interface ResolvedTargets {
  account: { id: string; arn: string } | null;
  /** Every fault's handle with its targets resolved, in plan order. */
  resolved: FaultHandle[];
  /** What the run touches; a lock on each keeps two runs off the same targets. */
  lockKeys: string[];
}

export interface PrepareResult extends ResolvedTargets {
  createdProxies: string[];
}

export async function prepareRun(input: PrepareInput): Promise<PrepareResult> {
  const targets = await resolveTargets(input);
  let createdProxies: string[] = [];
  if (input.toxiproxy) {
    const { url, proxies } = input.toxiproxy;
    createdProxies = await ensureProxies(url, proxies);
    const targeted = faultsOf(input).flatMap((f) => (f.provider === 'toxiproxy' ? [f.toxiproxy.proxy] : []));
    const missing = await missingProxies(url, targeted);
    if (missing.length > 0) {
      throw refusal(
        `no proxy named ${missing.join(', ')} on toxiproxy at ${url}; declare it under settings.toxiproxy.proxies or create it first`,
        'TargetMissing',
      );
    }
    await refuseDisabledProxies(
      faultsOf(input).flatMap((f) =>
        f.provider === 'toxiproxy' && f.toxiproxy.action === 'down' ? [f.toxiproxy] : [],
      ),
    );
  }
  return { ...targets, createdProxies };
}

/** The read-only part of preparing, which `gameday plan` shows too: it changes nothing. */
export async function resolveTargets(input: PrepareInput): Promise<ResolvedTargets> {
  const account = input.aws ? await checkAccount(input.aws) : null;
  const resolved: FaultHandle[] = [];
  for (const fault of faultsOf(input)) {
    let handle = await resolveFault(fault);
    await checkBlastRadius(handle, input.maxBlastRadius);
    if (handle.provider === 'awsEc2') await checkEc2Permissions(handle.awsEc2);
    if (handle.provider === 'awsFis') {
      handle = { ...handle, awsFis: await resolveFis(handle.awsFis, handle.name, input.maxBlastRadius) };
    }
    resolved.push(handle);
  }
  // The servers behind each Toxiproxy URL, resolved here so the workflow only ever sees keys.
  const servers: ToxiproxyServers = {};
  for (const handle of resolved) {
    if (handle.provider !== 'toxiproxy') continue;
    servers[handle.toxiproxy.url] ??= await serverIdentities(handle.toxiproxy.url);
  }
  const lockKeys = [...new Set(resolved.flatMap((handle) => lockKeysOf(handle, servers)))].sort();
  return { account, resolved, lockKeys };
}

/** Toxiproxy URL → the identities of the server it reaches (see server-identity.ts). */
export type ToxiproxyServers = Record<string, string[]>;

async function checkAccount(settings: NonNullable<RunPlan['aws']>): Promise<{ id: string; arn: string }> {
  const identity = await aws('sts GetCallerIdentity', () =>
    stsClient(settings.sts).send(new GetCallerIdentityCommand({})),
  );
  const account = { id: identity.Account ?? 'unknown', arn: identity.Arn ?? 'unknown' };
  if (settings.accounts && !settings.accounts.includes(account.id)) {
    throw refusal(
      `the AWS credentials belong to account ${account.id} (${account.arn}), which is not in target.accounts ` +
        `(${settings.accounts.join(', ')}); nothing was run`,
      'AccountNotAllowed',
    );
  }
  return account;
}

async function checkBlastRadius(handle: FaultHandle, maxBlastRadius: number): Promise<void> {
  if (handle.provider !== 'awsEc2') return;
  const { instances, candidates, allowEmpty, selection } = handle.awsEc2;
  const chosen = instances?.length ?? 0;
  if (chosen === 0 && !allowEmpty) {
    throw refusal(
      `fault ${handle.name}: the selection matches no ${handle.awsEc2.action === 'terminate' ? 'running or stopped' : 'running'} ` +
        `instance (${JSON.stringify(handle.awsEc2.selector)}); set allowEmpty: true if that is expected`,
      'TargetMissing',
    );
  }
  const percent = candidates ? (100 * chosen) / candidates : 0;
  if (percent > maxBlastRadius) {
    throw refusal(
      `fault ${handle.name}: ${selection} touches ${chosen} of ${candidates} matching instances (${percent.toFixed(0)}%), ` +
        `above target.maxBlastRadius ${maxBlastRadius}%`,
      'BlastRadius',
    );
  }
}

export function lockKeysOf(handle: FaultHandle, servers: ToxiproxyServers = {}): string[] {
  switch (handle.provider) {
    case 'toxiproxy': {
      const { url, proxy } = handle.toxiproxy;
      // Temporal caps a workflow id (the lock's) at 1,000 bytes; Toxiproxy's proxy names are unbounded.
      const name = Buffer.byteLength(proxy) > 200 ? `sha256:${sha256(proxy)}` : proxy;
      return (servers[url] ?? [url]).map((server) => `toxiproxy/${server}/${name}`);
    }
    case 'awsEc2':
      // The whole selection, not only the chosen instances: two runs on one fleet would confound
      // each other even when they stop different instances.
      return (handle.awsEc2.matched ?? handle.awsEc2.instances?.map((i) => i.id) ?? []).map(
        (id) => `ec2/${handle.awsEc2.region}/${id}`,
      );
    case 'awsFis': {
      const { region, templateId, template, matched } = handle.awsFis;
      // The instances its targets match, as for awsEc2, so FIS and EC2 runs on one fleet exclude
      // each other; and the template itself.
      const instances = (matched ?? []).map((id) => `ec2/${region}/${id}`);
      if (templateId) return [`fis-template/${region}/${templateId}`, ...instances];
      const targets = sha256(JSON.stringify(template?.targets ?? {})).slice(0, 16);
      return [`fis-targets/${region}/${targets}`, ...instances];
    }
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function faultsOf(input: Pick<RunPlan, 'phases'>): FaultHandle[] {
  return input.phases.flatMap((phase) => phase.faults);
}

function refusal(message: string, type: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}
