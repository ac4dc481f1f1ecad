/**
 * Plans one firing of a schedule: the stored experiment, the run id of this firing, and the
 * environment overrides captured when the schedule was created, so a run plans the same whichever
 * worker picks it up and whenever it fires.
 */
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { PlanRefused, planRun, type RunPlan } from '../src/experiment/plan';
import { Experiment } from '../src/experiment/schema';
import type { ScheduledRunInput } from '../workflows/scheduled-input';

export async function planScheduledRun(input: ScheduledRunInput & { runId: string }): Promise<RunPlan> {
  // Parsed again so fields added to the schema since the schedule stored it get their defaults.
  const parsed = Experiment.safeParse(input.experiment);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `the experiment stored in the schedule no longer validates (${parsed.error.issues
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
        .join('; ')}); \`gameday schedule update\` stores the file's current content`,
      'PlanRefused',
    );
  }
  try {
    return planRun(parsed.data, {
      runId: input.runId,
      file: input.file,
      sha256: input.sha256,
      outDir: join(input.outRoot, input.runId),
      reports: input.reports,
      allowProduction: input.allowProduction,
      env: input.env,
    });
  } catch (error) {
    if (error instanceof PlanRefused) throw ApplicationFailure.nonRetryable(error.message, 'PlanRefused');
    throw error;
  }
}
