/**
 * The continuity plan at the end of a run, after rollback and recovery: the write probe's
 * acknowledged writes are read back, and each service is measured against its RTO and RPO before
 * the verdict (src/report/continuity.ts). Runs recorded before it never call the read-back.
 */
import { patched } from '@temporalio/workflow';
import { acknowledgedWrites, measureContinuity } from '../src/report/continuity';
import type { ReadBackResult } from '../src/report/continuity-record';
import { activities } from './proxies';
import { messageOf, type RunState } from './run-state';

export async function measureRunContinuity(run: RunState): Promise<void> {
  const plan = run.plan.continuity;
  if (!plan || run.phases.length === 0) return;
  const journal = run.journal();
  const services = plan.services.flatMap((service) =>
    service.writeProbe && service.readBack
      ? [
          {
            service: service.name,
            readBack: service.readBack,
            writes: acknowledgedWrites(journal, service.writeProbe).writes,
          },
        ]
      : [],
  );
  let readBacks: ReadBackResult[] = [];
  if (services.length > 0 && patched('continuity-read-back')) {
    try {
      readBacks = await activities.readBackWrites({ services });
    } catch (error) {
      run.log('continuity.read-back-failed', messageOf(error));
    }
  }
  run.continuity = measureContinuity(journal, plan, readBacks);
  for (const s of run.continuity.services)
    run.log('continuity.measured', `${s.service}: ${s.held ? 'held its plan' : 'MISSED its plan'}`);
}
