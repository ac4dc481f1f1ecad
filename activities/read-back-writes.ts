/**
 * The continuity plan's read-back: every write a write probe got acknowledged is read again after
 * recovery. Found means the read answered with one of the plan's statuses; lost means the service
 * answered that it is not there (404, 410); anything else (no answer, an error status) leaves the
 * write unverified. Writes not found are tried again a few times, since a queue may still be
 * flushing right after recovery.
 */
import { Context } from '@temporalio/activity';
import { ID_PLACEHOLDER, type ReadBackPlan } from '../src/experiment/continuity';
import { sampleHttp } from '../src/providers/probes/http';
import type { AcknowledgedWrite, ReadBackResult } from '../src/report/continuity-record';

export interface ReadBackInput {
  services: { service: string; readBack: ReadBackPlan; writes: AcknowledgedWrite[] }[];
}

const PASSES = 3;
const PASS_PAUSE_MS = 1_000;
const CONCURRENCY = 8;
const GONE = [404, 410];

export async function readBackWrites(input: ReadBackInput): Promise<ReadBackResult[]> {
  const context = Context.current();
  const results: ReadBackResult[] = [];
  for (const { service, readBack, writes } of input.services) {
    let pending = writes;
    const lost = new Map<string, AcknowledgedWrite>();
    for (let pass = 0; pass < PASSES && pending.length > 0; pass++) {
      if (pass > 0) await new Promise((resolve) => setTimeout(resolve, PASS_PAUSE_MS));
      lost.clear();
      const outcomes = await inBatches(pending, (write) => readOne(readBack, write, context));
      pending = outcomes.filter((o) => o.outcome !== 'found').map((o) => o.write);
      for (const o of outcomes) if (o.outcome === 'lost') lost.set(o.write.id, o.write);
    }
    results.push({
      service,
      checked: writes.length,
      lost: [...lost.values()],
      unverified: pending.filter((write) => !lost.has(write.id)),
    });
  }
  return results;
}

async function readOne(
  readBack: ReadBackPlan,
  write: AcknowledgedWrite,
  context: Context,
): Promise<{ write: AcknowledgedWrite; outcome: 'found' | 'lost' | 'unverified' }> {
  const url = readBack.url.split(ID_PLACEHOLDER).join(encodeURIComponent(write.id));
  const sample = await sampleHttp({ ...readBack, url }, readBack.okStatus, context.cancellationSignal);
  const outcome = sample.ok
    ? 'found'
    : sample.status !== undefined && GONE.includes(sample.status)
      ? 'lost'
      : 'unverified';
  return { write, outcome };
}

async function inBatches<T, R>(items: readonly T[], each: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += CONCURRENCY) {
    Context.current().heartbeat({ done: i });
    out.push(...(await Promise.all(items.slice(i, i + CONCURRENCY).map(each))));
  }
  return out;
}
