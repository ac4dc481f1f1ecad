/**
 * `gameday schedule` as a user runs it, against the suite's Temporal dev server: a schedule fires
 * real runs on a worker, bad input creates nothing, `list` notices an edited file and `update`
 * stores the new content, and pause, unpause, trigger and delete do what they say.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Client, ScheduleNotFoundError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../../src/lab/ports';
import type { Journal } from '../../src/report/journal';
import type { RunResult } from '../../workflows/messages';
import { scheduledRunId } from '../../workflows/scheduled-run';
import {
  cliEnv,
  experimentFor,
  gameday,
  type RunningWorker,
  scratchDir,
  startTarget,
  startWorker,
  type Target,
  testClient,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';

const FILE_CHANGED = 'file changed since the schedule was created';

/** A time no test will reach: a schedule created `--at` it fires only when triggered. */
const NEVER = `${new Date().getUTCFullYear() + 1}-06-01T12:00Z`;

/** The block `schedule list` prints for one schedule (blocks are separated by a blank line). */
async function listed(env: Record<string, string>, id: string): Promise<string | null> {
  const { code, stdout } = await gameday(['schedule', 'list'], env).done;
  expect(code).toBe(0);
  return stdout.split('\n\n').find((block) => block.startsWith(`${id} `)) ?? null;
}

async function finishedResult(client: Client, workflowId: string) {
  const result = (await client.workflow.getHandle(workflowId).result()) as RunResult;
  if (result.outcome !== 'finished') throw new Error(`run ended ${result.outcome}`);
  return result;
}

/**
 * Deletes the schedule if the test left it, and waits for the runs it started, so no run is left
 * to a worker that is about to stop. Then the worker and the target go.
 */
async function cleanUp(client: Client, id: string, worker?: RunningWorker, target?: Target): Promise<void> {
  const handle = client.schedule.getHandle(id);
  try {
    const description = await handle.describe();
    await handle.delete();
    await Promise.all(
      description.info.recentActions.map((action) =>
        client.workflow
          .getHandle(action.action.workflow.workflowId)
          .result()
          .catch(() => undefined),
      ),
    );
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
  }
  await worker?.stop();
  await target?.stop();
}

describe('gameday schedule', () => {
  it('fires a run within seconds with --every: the run passes and writes its journal', async () => {
    const queue = uniqueName('q');
    const env = cliEnv(queue);
    const client = await testClient();
    const worker = await startWorker(queue);
    const target = await startTarget();
    const id = uniqueName('every');
    try {
      const file = await writeExperiment(experimentFor(target));
      const out = await scratchDir('scheduled');
      const created = await gameday(
        ['schedule', 'create', file, '--every', '2s', '--id', id, '--out', out],
        env,
      ).done;
      expect(created.code, created.stderr).toBe(0);
      expect(created.stdout).toContain(`schedule ${id} created: every 2s, overlap skip`);

      const handle = client.schedule.getHandle(id);
      const first = await waitFor(async () => (await handle.describe()).info.recentActions[0], {
        what: 'the schedule to fire',
        intervalMs: 200,
      });
      // One run is enough; the next firing would be skipped while it runs anyway (overlap skip).
      await handle.pause('the test has its run');

      const workflowId = first.action.workflow.workflowId;
      const runId = scheduledRunId(workflowId);
      expect(workflowId).toMatch(new RegExp(`^${id}-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`));
      expect(runId).toMatch(new RegExp(`^${id}-\\d{8}-\\d{6}$`));

      const result = await finishedResult(client, workflowId);
      expect(result.verdict).toBe('passed');
      expect(result.journalPath).toBe(join(out, runId, 'journal.json'));
      const journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8')) as Journal;
      expect(journal.verdict).toBe('passed');
      // The run itself is the ordinary run workflow, found by its run id like any other.
      const child = await client.workflow.getHandle(runId).describe();
      expect(child.type).toBe('gamedayRun');
      expect(child.status.name).toBe('COMPLETED');
      // Both hold their workflow tasks as briefly as a run started by hand (workflow-task-lost.test.ts).
      const parent = await client.workflow.getHandle(workflowId).describe();
      for (const run of [parent, child])
        expect(Number(run.raw.executionConfig?.defaultWorkflowTaskTimeout?.seconds)).toBe(3);

      expect(await listed(env, id)).toContain(`last run: ${runId} passed`);

      const deleted = await gameday(['schedule', 'delete', id], env).done;
      expect(deleted.code, deleted.stderr).toBe(0);
      await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    } finally {
      await cleanUp(client, id, worker, target);
    }
  });

  it('refuses an invalid file, a past --at, production and a bad spec with 64, creating nothing', async () => {
    const env = cliEnv(uniqueName('q'));
    const client = await testClient();
    const target = await startTarget('sched-bad', { declareOnly: true });
    const ids: string[] = [];
    const refused = async (args: string[], ...messages: string[]) => {
      const id = uniqueName('refused');
      ids.push(id);
      const { code, stderr } = await gameday(['schedule', 'create', ...args, '--id', id], env).done;
      expect(code, stderr).toBe(64);
      for (const message of messages) expect(stderr).toContain(message);
      await expect(client.schedule.getHandle(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    };
    try {
      const good = experimentFor(target);
      const dir = await scratchDir('sched-invalid');
      const invalid = join(dir, 'invalid.yaml');
      await writeFile(invalid, stringify({ ...good, phases: [{ name: 'slow', duration: 'soon' }] }));
      await refused([invalid, '--every', '1m'], `${invalid}:`, 'phases[0].duration');

      const file = await writeExperiment(good, dir);
      await refused([file, '--at', '2020-01-01T00:00Z'], 'is in the past; nothing was scheduled');
      await refused([file, '--cron', '0 3 * *'], 'Temporal refused the schedule');
      await refused(
        [file, '--every', '1m', '--cron', '0 3 * * *'],
        'give exactly one of --cron, --at and --every',
      );
      await refused([file, '--every', '1500ms'], 'whole seconds');
      await refused([file, '--cron', '0 3 * * *', '--timezone', 'Mars/Olympus'], 'not an IANA time zone');

      const production = await writeExperiment(
        { ...good, name: uniqueName('prod'), target: { environment: 'production' } },
        dir,
      );
      await refused([production, '--every', '1m'], 'pass --allow-production');

      for (const command of ['pause', 'trigger', 'update', 'delete']) {
        const { code, stderr } = await gameday(['schedule', command, 'no-such-schedule-x1'], env).done;
        expect(code, `${command}: ${stderr}`).toBe(64);
        expect(stderr).toContain('no schedule named no-such-schedule-x1');
      }

      const port = await freePort();
      const unreachable = await gameday(['schedule', 'list'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` }).done;
      expect(unreachable.code).toBe(69);
      expect(unreachable.stderr).toContain(`Temporal is not reachable at 127.0.0.1:${port}`);
    } finally {
      for (const id of ids) await cleanUp(client, id);
      await target.stop();
    }
  });

  it('lists the schedule, says when its file changed, and update takes the new content', async () => {
    const env = cliEnv(uniqueName('q'));
    const client = await testClient();
    const target = await startTarget('sched-list', { declareOnly: true });
    const id = uniqueName('listed');
    try {
      const experiment = experimentFor(target);
      const file = await writeExperiment(experiment);
      const created = await gameday(['schedule', 'create', file, '--at', NEVER, '--id', id], env).done;
      expect(created.code, created.stderr).toBe(0);

      // The list is eventually consistent: a new schedule shows up a moment later.
      const block = await waitFor(() => listed(env, id), {
        what: 'the schedule in the list',
        intervalMs: 200,
      });
      expect(block).toContain(`once, on ${NEVER.slice(0, 10)} at 12:00 UTC  [active]`);
      expect(block).toContain(`experiment ${experiment.name} from ${file}`);
      expect(block).toContain(`next: ${NEVER.slice(0, 16)}:00Z`);
      expect(block).toContain('last run: none yet');
      expect(block).not.toContain(FILE_CHANGED);

      const described = JSON.parse((await gameday(['schedule', 'describe', id, '--json'], env).done).stdout);
      expect(described).toMatchObject({
        scheduleId: id,
        remainingActions: 1,
        overlap: 'skip',
        env: { TOXIPROXY_URL: env.TOXIPROXY_URL },
        fileState: 'unchanged',
      });
      const stored = await storedInput(client, id);
      expect(stored.experiment.description).toBe(experiment.description);
      expect((await client.schedule.getHandle(id).describe()).memo).toMatchObject({
        file,
        sha256: stored.sha256,
      });

      // An edit does not change the schedule, and list says so.
      await writeFile(file, stringify({ ...experiment, description: 'Edited after the schedule was made.' }));
      expect(await listed(env, id)).toContain(
        `${FILE_CHANGED}; \`gameday schedule update ${id}\` takes the new content`,
      );
      expect((await storedInput(client, id)).sha256).toBe(stored.sha256);

      // An invalid file is refused by update, and the stored content stays.
      await writeFile(file, stringify({ ...experiment, phases: [] }));
      const refused = await gameday(['schedule', 'update', id], env).done;
      expect(refused.code).toBe(64);
      expect(refused.stderr).toContain('phases');
      expect((await storedInput(client, id)).sha256).toBe(stored.sha256);

      await writeFile(file, stringify({ ...experiment, description: 'Edited after the schedule was made.' }));
      const updated = await gameday(['schedule', 'update', id], env).done;
      expect(updated.code, updated.stderr).toBe(0);
      expect(updated.stdout).toContain(`schedule ${id} now runs ${experiment.name}`);
      const after = await storedInput(client, id);
      expect(after.experiment.description).toBe('Edited after the schedule was made.');
      expect(after.sha256).not.toBe(stored.sha256);
      const fresh = await listed(env, id);
      expect(fresh).not.toContain(FILE_CHANGED);
      expect(fresh).toContain('[active]');

      await rm(file);
      expect(await listed(env, id)).toContain(`file gone since the schedule was created: ${file}`);
    } finally {
      await cleanUp(client, id);
      await target.stop();
    }
  });

  it('pauses, unpauses, triggers a run now (paused or not) and deletes', async () => {
    const queue = uniqueName('q');
    const env = cliEnv(queue);
    const client = await testClient();
    const worker = await startWorker(queue);
    const target = await startTarget();
    const id = uniqueName('manual');
    try {
      const file = await writeExperiment(experimentFor(target));
      const out = await scratchDir('triggered');
      const created = await gameday(
        ['schedule', 'create', file, '--at', NEVER, '--id', id, '--out', out],
        env,
      ).done;
      expect(created.code, created.stderr).toBe(0);

      const paused = await gameday(['schedule', 'pause', id, '--note', 'change freeze'], env).done;
      expect(paused.code, paused.stderr).toBe(0);
      expect((await client.schedule.getHandle(id).describe()).state).toMatchObject({
        paused: true,
        note: 'change freeze',
      });
      expect(await waitFor(() => listed(env, id), { what: 'the schedule in the list' })).toContain(
        '[paused: change freeze]',
      );

      const whilePaused = await triggered(client, env, id);
      const firstResult = await finishedResult(client, whilePaused.workflowId);
      expect(firstResult.verdict).toBe('passed');
      expect(firstResult.journalPath).toBe(join(out, whilePaused.runId, 'journal.json'));

      const unpaused = await gameday(['schedule', 'unpause', id], env).done;
      expect(unpaused.code, unpaused.stderr).toBe(0);
      expect((await client.schedule.getHandle(id).describe()).state.paused).toBe(false);

      const again = await triggered(client, env, id);
      expect(again.runId).not.toBe(whilePaused.runId);
      expect((await finishedResult(client, again.workflowId)).verdict).toBe('passed');
      const block = await listed(env, id);
      expect(block).toContain('[active]');
      expect(block).toContain(`last run: ${again.runId} passed`);

      const deleted = await gameday(['schedule', 'delete', id], env).done;
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(await listed(env, id)).toBeNull();
      await expect(client.schedule.getHandle(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    } finally {
      await cleanUp(client, id, worker, target);
    }
  });
});

async function storedInput(client: Client, id: string) {
  const description = await client.schedule.getHandle(id).describe();
  return description.action.args?.[0] as { experiment: { description: string }; sha256: string };
}

/** `schedule trigger`, and the run it started: the workflow the schedule fired and its run id. */
async function triggered(client: Client, env: Record<string, string>, id: string) {
  const { code, stdout, stderr } = await gameday(['schedule', 'trigger', id], env).done;
  expect(code, stderr).toBe(0);
  const runId = /run (\S+) started now/.exec(stdout)?.[1];
  expect(runId, stdout).toMatch(new RegExp(`^${id}-\\d{8}-\\d{6}$`));
  const description = await client.schedule.getHandle(id).describe();
  const action = description.info.recentActions.find(
    (recent) => scheduledRunId(recent.action.workflow.workflowId) === runId,
  );
  if (!action || !runId) throw new Error(`no recent action of ${id} is run ${runId}`);
  return { runId, workflowId: action.action.workflow.workflowId };
}
