/**
 * Before the steady-state check: create the declared Toxiproxy proxies and make sure every proxy a
 * fault acts on exists, so a typo in a proxy name stops the run before anything is injected.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { RunPlan } from '../src/experiment/plan';
import { ensureProxies, missingProxies } from './faults/toxiproxy';

export interface PrepareResult {
  createdProxies: string[];
}

export async function prepareRun(input: Pick<RunPlan, 'toxiproxy' | 'phases'>): Promise<PrepareResult> {
  if (!input.toxiproxy) return { createdProxies: [] };
  const { url, proxies } = input.toxiproxy;
  const createdProxies = await ensureProxies(url, proxies);
  const targeted = input.phases.flatMap((phase) => phase.faults.map((fault) => fault.toxiproxy.proxy));
  const missing = await missingProxies(url, targeted);
  if (missing.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `no proxy named ${missing.join(', ')} on toxiproxy at ${url}; declare it under settings.toxiproxy.proxies or create it first`,
      'TargetMissing',
    );
  }
  return { createdProxies };
}
