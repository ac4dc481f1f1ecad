/**
 * The sweep: every fault carrying gameday's mark, on every source, whose run is not live in
 * Temporal. A run is live while its workflow (whose id is the run id) is running; the check is a
 * describe per run, which, unlike a visibility query, is never behind. Faults of live runs are
 * never touched; with `apply`, the others are reverted one by one, each with its provider's revert.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { isProviderFailure } from '../providers/fault-provider';
import type { MarkedFault, SweepSource } from './marks';

export interface SweptFault {
  fault: MarkedFault;
  /** What the revert did, or why it failed; absent in a dry run. */
  outcome?: { ok: true; did: string } | { ok: false; error: string };
}

export interface SweepResult {
  orphaned: SweptFault[];
  /** Marked faults left alone because their run is live. */
  live: MarkedFault[];
  /** Sources that could not be read, and why. */
  unreadable: { source: string; error: string }[];
}

export interface SweepOptions {
  apply: boolean;
  /** Of the orphans, which to revert now (the worker's grace period); all when absent. */
  ripe?: (fault: MarkedFault) => boolean;
  /** The wait before the second look at a source that did not answer (doubled before the third). */
  retryDelayMs?: number;
}

/** Looks at a source up to this many times while it does not answer. */
const FIND_ATTEMPTS = 3;

export async function sweep(
  client: Client,
  sources: SweepSource[],
  options: SweepOptions,
): Promise<SweepResult> {
  const unreadable: SweepResult['unreadable'] = [];
  const found = (
    await Promise.all(
      sources.map((source) =>
        findPatiently(source, options.retryDelayMs ?? 1_000).catch((error: Error) => {
          unreadable.push({ source: source.name, error: error.message });
          return [];
        }),
      ),
    )
  ).flat();
  const runIds = [...new Set(found.map((fault) => fault.runId))];
  const liveness = new Map(
    await Promise.all(runIds.map(async (id) => [id, await isLive(client, id)] as const)),
  );
  const live = found.filter((fault) => liveness.get(fault.runId));
  const orphaned: SweptFault[] = found
    .filter((fault) => !liveness.get(fault.runId))
    .map((fault) => ({ fault }));
  if (options.apply) {
    for (const swept of orphaned) {
      if (options.ripe && !options.ripe(swept.fault)) continue;
      try {
        swept.outcome = { ok: true, did: await swept.fault.revert() };
      } catch (error) {
        swept.outcome = { ok: false, error: (error as Error).message };
      }
    }
  }
  return { orphaned, live, unreadable };
}

/**
 * The sweep is for when things are broken: a server slow to answer on a loaded machine is asked
 * again before it is called unreadable. A refusal is an answer, and is not asked again.
 */
async function findPatiently(source: SweepSource, delayMs: number): Promise<MarkedFault[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await source.find();
    } catch (error) {
      const retryable = isProviderFailure(error) && error.kind === 'unavailable';
      if (!retryable || attempt === FIND_ATTEMPTS) {
        if (retryable) (error as Error).message += ` (${attempt} attempts)`;
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs * 2 ** (attempt - 1)));
    }
  }
}

async function isLive(client: Client, runId: string): Promise<boolean> {
  try {
    const description = await client.workflow.getHandle(runId).describe();
    return description.status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/** A stable key for a fault across sweeps, for the grace period. */
export const faultKey = (fault: MarkedFault) => `${fault.runId}|${fault.target}`;
