/** An extra rollback step from the experiment file: one HTTP request that must succeed. */
import { ApplicationFailure } from '@temporalio/common';
import type { RollbackStepPlan } from '../src/experiment/plan';
import { sampleHttp } from '../src/providers/probes/http';

export async function runRollbackStep(step: RollbackStepPlan): Promise<{ at: number }> {
  const result = await sampleHttp(step.http, step.okStatus);
  if (!result.ok) {
    throw ApplicationFailure.retryable(
      `rollback step ${step.name}: ${result.error ?? 'failed'}`,
      'RollbackStepFailed',
    );
  }
  return { at: Date.now() };
}
