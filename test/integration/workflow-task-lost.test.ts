/**
 * A worker that dies holding one of a run's workflow tasks holds the run, faults and all, until
 * Temporal gives the task to another worker. Against the suite's Temporal server, a poller that
 * takes the run's first workflow task and never answers (a worker SIGKILLed just after it polled)
 * costs the run Temporal's workflow task timeout: gameday sets 3s, where the default is 10s.
 */
import type { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import {
  experimentFor,
  finished,
  proxyState,
  type RunningWorker,
  startExperiment,
  startTarget,
  startWorker,
  testClient,
  uniqueName,
  waitFor,
} from '../helpers';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const at = (event: HistoryEvent | undefined) =>
  Number(event?.eventTime?.seconds ?? 0) * 1_000 + Math.floor((event?.eventTime?.nanos ?? 0) / 1e6);

describe('a workflow task lost with its worker', () => {
  it('goes to a live worker after 3s, and the run injects, reverts and passes', async () => {
    const client = await testClient();
    const taskQueue = uniqueName('task-lost');
    const lostIdentity = `lost-worker-${taskQueue}`;
    let worker: RunningWorker | undefined;
    try {
      // The lost worker polls first, alone, so the run's first task is its.
      const lostPoll = client.connection.withDeadline(Date.now() + 60_000, () =>
        client.workflowService.pollWorkflowTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue },
          identity: lostIdentity,
        }),
      );
      await waitFor(
        async () => {
          const queue = await client.workflowService.describeTaskQueue({
            namespace: 'default',
            taskQueue: { name: taskQueue },
          });
          return queue.pollers?.some((poller) => poller.identity === lostIdentity);
        },
        { what: 'the lost worker to poll', intervalMs: 50 },
      );
      const target = await startTarget();
      const { handle } = await startExperiment(client, experimentFor(target), taskQueue);
      const taken = await lostPoll;
      expect(taken.workflowExecution?.workflowId).toBe(handle.workflowId);

      worker = await startWorker(taskQueue);
      const result = await finished(handle);
      expect(result.verdict).toBe('passed');
      expect(result.journal.faults.map((fault) => fault.revertedAt !== undefined)).toEqual([true]);
      expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });

      // By the server's clock: from the lost worker taking the task to the task timing out.
      const events = (await handle.fetchHistory()).events ?? [];
      const started = events.find(
        (event) => event.workflowTaskStartedEventAttributes?.identity === lostIdentity,
      );
      const timedOut = events.find((event) => event.workflowTaskTimedOutEventAttributes);
      expect(started).toBeDefined();
      expect(timedOut).toBeDefined();
      const heldMs = at(timedOut) - at(started);
      expect(heldMs).toBeGreaterThanOrEqual(3_000);
      expect(heldMs).toBeLessThan(6_000);
    } finally {
      await worker?.stop();
      await client.connection.close();
    }
  });
});
