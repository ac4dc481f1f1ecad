/**
 * A worker killed during one of a phase's injects must not keep the phase's other faults in
 * longer than planned. The two faults go in together; Toxiproxy is reached through a forwarder
 * that holds the first request adding the second toxic, so that inject is still in flight, on a
 * worker of its own, when the first toxic is in place. That worker is SIGKILLed; the other worker,
 * already polling, retries the inject after the heartbeat timeout. The phase's clock must start
 * when the first fault was in place, not when the retry landed seconds later.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../src/report/journal';
import {
  cliEnv,
  experimentFor,
  gameday,
  proxyState,
  scratchDir,
  startTarget,
  startWorkerProcess,
  testClient,
  toxiproxyUrl,
  uniqueName,
  waitFor,
  writeExperiment,
} from '../helpers';

/** Forwards to the suite's Toxiproxy, holding (never forwarding) the first request `hold` picks. */
async function holdingForwarder(hold: (request: IncomingMessage) => boolean) {
  let held = false;
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (!held && hold(request)) {
      held = true;
      return; // its worker is killed with the request unanswered
    }
    const answer = await fetch(`${toxiproxyUrl()}${request.url}`, {
      method: request.method,
      headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    });
    response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
    response.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    held: () => held,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("a worker killed during one of a phase's injects", () => {
  it("starts the phase's clock when the first fault was in place, not when the retried inject landed", async () => {
    const [first, second] = [await startTarget('first'), await startTarget('late')];
    const forwarder = await holdingForwarder(
      (request) => request.method === 'POST' && request.url === `/proxies/${second.proxy}/toxics`,
    );
    const experiment = experimentFor(first, {
      settings: { toxiproxy: { url: forwarder.url } },
      phases: [
        {
          name: 'both',
          duration: '6s',
          faults: [
            {
              name: 'first-latency',
              toxiproxy: { proxy: first.proxy, toxic: 'latency', attributes: { latency: 5 } },
            },
            {
              name: 'late-latency',
              toxiproxy: { proxy: second.proxy, toxic: 'latency', attributes: { latency: 5 } },
            },
          ],
        },
      ],
    });
    const file = await writeExperiment(experiment);
    // TOXIPROXY_URL would win over the file's url: it points at the forwarder too.
    const env = { ...cliEnv(uniqueName('clock')), TOXIPROXY_URL: forwarder.url };
    const out = await scratchDir('out');
    const runId = uniqueName('clock');

    const workers = [await startWorkerProcess(env), await startWorkerProcess(env)];
    const run = gameday(['run', file, '--out', out, '--id', runId], env);
    await waitFor(
      async () =>
        forwarder.held() && (await proxyState(first.proxy)).toxics.includes(`gameday.${runId}.first-latency`),
      {
        what: () =>
          `the first toxic in place and the second inject held; gameday run printed: ${run.output()}`,
      },
    );
    const client = await testClient();
    // The first inject has completed; the held one is the only inject left, on its worker.
    let holder: string | undefined;
    await waitFor(
      async () => {
        const { raw } = await client.workflow.getHandle(runId).describe();
        const injects = (raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'injectFault');
        holder = injects.length === 1 ? (injects[0]?.lastWorkerIdentity ?? undefined) : undefined;
        return holder !== undefined;
      },
      { what: 'the held inject to be the only one pending' },
    );
    await client.connection.close();
    const victim = workers.find((w) => holder?.startsWith(`${w.child.pid}@`));
    if (!victim) throw new Error(`the held inject runs on ${holder}, not on a test worker`);
    victim.child.kill('SIGKILL');
    expect((await victim.done).signal).toBe('SIGKILL');

    const { code, stdout } = await run.done;
    for (const worker of workers.filter((w) => w !== victim)) {
      worker.child.kill('SIGTERM');
      await worker.done;
    }
    expect(code, stdout).toBe(0);
    expect(await proxyState(first.proxy)).toEqual({ enabled: true, toxics: [] });
    expect(await proxyState(second.proxy)).toEqual({ enabled: true, toxics: [] });

    const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));
    const [early, late] = ['first-latency', 'late-latency'].map((name) =>
      journal.faults.find((fault) => fault.handle.name === name),
    );
    // The retried inject landed once Temporal gave up on the dead worker (3s heartbeat timeout).
    expect((late?.injectedAt ?? 0) - (early?.injectedAt ?? 0)).toBeGreaterThan(2_000);
    // The phase counts from the first fault in place, so it stays its 6s; the retried one is in
    // for less, and its own window in the journal says so.
    expect(journal.phases[0]?.watch?.startedAt).toBe(early?.injectedAt);
    expect(journal.phases[0]?.watch?.endedAt).toBeLessThan((late?.injectedAt ?? 0) + 6_000);
    await forwarder.stop();
    await Promise.all([first.stop(), second.stop()]);
  }, 240_000);
});
