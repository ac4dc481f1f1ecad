import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes';
import { DEFAULT_ACTIVITY_SLOTS, workerTuning } from '../../src/temporal/worker';

describe("a worker's settings for a big batch", () => {
  it('take the activity slots, workflow slots and sticky cache from the environment', () => {
    expect(workerTuning({})).toEqual({ activitySlots: DEFAULT_ACTIVITY_SLOTS });
    expect(
      workerTuning({
        GAMEDAY_WORKER_ACTIVITY_SLOTS: '300',
        GAMEDAY_WORKER_WORKFLOW_SLOTS: '20',
        GAMEDAY_WORKER_CACHED_WORKFLOWS: '500',
      }),
    ).toEqual({ activitySlots: 300, workflowSlots: 20, cachedWorkflows: 500 });
  });

  it('hold more runs in their phases than the SDK default of 100 activity slots', () => {
    expect(DEFAULT_ACTIVITY_SLOTS).toBeGreaterThanOrEqual(200);
  });

  it.each([
    ['GAMEDAY_WORKER_ACTIVITY_SLOTS', 'lots'],
    ['GAMEDAY_WORKER_ACTIVITY_SLOTS', '0'],
    ['GAMEDAY_WORKER_WORKFLOW_SLOTS', '1'],
    ['GAMEDAY_WORKER_CACHED_WORKFLOWS', '2.5'],
  ])('refuse %s=%s in one line that names it (exit 64)', (name, value) => {
    let error: unknown;
    try {
      workerTuning({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ exitCode: EXIT.invalidInput });
    expect((error as Error).message).toMatch(
      new RegExp(`^${name}=${value.replace('.', '\\.')}: expected a whole number`),
    );
    expect((error as Error).message).not.toContain('\n');
  });
});
