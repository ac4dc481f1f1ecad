/**
 * Two runs on one Toxiproxy proxy exclude each other however each one writes the server's URL.
 * Against the suite's Temporal and Toxiproxy servers, with an in-process worker.
 */
import { describe, expect, it } from 'vitest';
import { abortSignal } from '../../workflows/messages';
import {
  experimentFor,
  finished,
  proxyState,
  startExperiment,
  startTarget,
  toxiproxyUrl,
  useWorker,
  waitFor,
} from '../helpers';

const suite = useWorker('lock-tests');
const { taskQueue } = suite;

describe('the proxy lock', () => {
  it('keeps a second run off a proxy whose server it names as localhost:PORT/ instead of 127.0.0.1:PORT', async () => {
    const target = await startTarget();
    const port = new URL(toxiproxyUrl()).port;
    const first = experimentFor(target, {
      settings: { toxiproxy: { url: `http://127.0.0.1:${port}` } },
      phases: [
        {
          name: 'slow',
          // Long enough for the second runs to try under any load; aborted once they have.
          duration: '5m',
          faults: [
            {
              name: 'slow',
              toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 5 } },
            },
          ],
        },
      ],
    });
    const running = await startExperiment(suite.client, first, taskQueue);
    await waitFor(async () => (await proxyState(target.proxy)).toxics.length > 0, {
      what: 'the first run to inject',
    });

    for (const url of [`http://localhost:${port}/`, `http://localhost:${port}`]) {
      const second = experimentFor(target, {
        settings: { toxiproxy: { url } },
        phases: [
          {
            name: 'down',
            duration: '1s',
            faults: [{ name: 'down', toxiproxy: { proxy: target.proxy, down: true } }],
          },
        ],
      });
      const { handle } = await startExperiment(suite.client, second, taskQueue);
      const result = await handle.result();
      expect(result, url).toEqual({
        outcome: 'locked',
        lockWorkflowId: expect.stringContaining(target.proxy),
      });
      // The first run's proxy was never touched by the second.
      expect((await proxyState(target.proxy)).enabled).toBe(true);
    }

    await running.handle.signal(abortSignal, { reason: 'the test has seen enough', by: 'test' });
    const result = await finished(running.handle);
    expect(result.verdict).toBe('aborted');
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
  });
});
