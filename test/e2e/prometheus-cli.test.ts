/**
 * The prometheus probe as a user meets it, through `gameday plan` and `gameday run` against the
 * suite's real Prometheus: a query the server does not parse is refused before anything runs, at
 * its place in the file; and a token sent to Prometheus reaches no journal, history, report or log.
 */
import { readFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Journal } from '../../src/report/journal';
import {
  cliEnv,
  experimentFor,
  gameday,
  scratchDir,
  startTarget,
  startWorkerProcess,
  testClient,
  uniqueName,
  writeExperiment,
} from '../helpers';
import { prometheusUrl, queryValue, startMeteredService } from '../prometheus-helpers';

/** Line and column (1-based) where `text` first appears in the file. */
async function positionOf(file: string, text: string): Promise<string> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  return `${line + 1}:${(lines[line] ?? '').indexOf(text) + 1}`;
}

describe('a PromQL query that does not parse', () => {
  it('is refused by gameday plan and gameday run at its place in the file, and nothing runs', async () => {
    const target = await startTarget();
    const experiment = experimentFor(target, {
      guardrails: [
        {
          name: 'budget',
          probe: {
            prometheus: { url: prometheusUrl(), query: 'rate(http_requests_total[5m]', value: { max: 1 } },
          },
          every: '500ms',
          abortWhen: { consecutiveFailures: 2 },
        },
      ],
    });
    experiment.steadyState.push({
      name: 'availability',
      prometheus: { url: prometheusUrl(), query: 'sum by (job) up)', value: { min: 1 } },
    });
    const file = await writeExperiment(experiment);

    const plan = await gameday(['plan', file]).done;
    expect(plan.code).toBe(64);
    // Where the query's value starts, as every other refusal of the file points at its value.
    const steady = await positionOf(file, 'sum by (job) up)');
    const guardrail = await positionOf(file, 'rate(http_requests_total[5m]');
    expect(plan.stderr.trim().split('\n')).toEqual([
      `${file}:${steady}  steadyState[1].prometheus.query  the query does not parse: prometheus bad_data: invalid parameter "query": 1:14: parse error: unexpected identifier "up" in aggregation`,
      `${file}:${guardrail}  guardrails[0].probe.prometheus.query  the query does not parse: prometheus bad_data: invalid parameter "query": 1:29: parse error: unclosed left parenthesis`,
    ]);

    const queue = uniqueName('q');
    const run = await gameday(['run', file, '--out', await scratchDir('out')], cliEnv(queue)).done;
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('steadyState[1].prometheus.query  the query does not parse');
    // Refused before a run was started: the queue never saw a workflow.
    const client = await testClient();
    const started = client.workflow.list({ query: `TaskQueue = "${queue}"` });
    const runs = [];
    for await (const run of started) runs.push(run);
    await client.connection.close();
    expect(runs).toEqual([]);
  });
});

describe('a token for Prometheus', () => {
  it('reaches no journal, history, report or log, even when a server quotes it back', async () => {
    const secret = 'prom-tok-7Hq2vX9zLw';
    const service = await startMeteredService('authd');
    await queryValue(service.errorRatio);
    // An authenticating gateway in front of Prometheus, as teams put one; on /quoting it refuses
    // and quotes the header it got, as some gateways do.
    const upstream = new URL(prometheusUrl());
    const gateway = createServer((request, response) => {
      const presented = request.headers.authorization ?? '';
      if (request.url?.startsWith('/quoting/') || presented !== `Bearer ${secret}`) {
        response.writeHead(401, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ status: 'error', errorType: 'unauthorized', error: `rejected ${presented}` }),
        );
        return;
      }
      const forwarded = httpRequest(
        { host: upstream.hostname, port: upstream.port, path: request.url, method: request.method },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.on('error', () => response.writeHead(502).end());
      forwarded.end();
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise((resolve) => gateway.close(() => resolve(undefined))));
    const gatewayUrl = `http://127.0.0.1:${(gateway.address() as { port: number }).port}`;
    const auth = { bearer: '${GAMEDAY_SECRET_PROM_TOKEN}' };
    const experiment = experimentFor(service.dependency, {
      steadyState: [
        {
          name: 'availability',
          prometheus: { url: gatewayUrl, query: service.errorRatio, value: { max: 0.1 }, auth },
          sample: { every: '100ms', count: 5 },
        },
      ],
      guardrails: [
        {
          name: 'quoted',
          probe: { prometheus: { url: `${gatewayUrl}/quoting`, query: 'up', value: { max: 1 }, auth } },
          every: '200ms',
          abortWhen: { consecutiveFailures: 3 },
        },
        {
          name: 'quoted-basic',
          probe: {
            prometheus: {
              url: `${gatewayUrl}/quoting`,
              query: 'up',
              value: { max: 1 },
              auth: { basic: { username: 'gameday', password: '${GAMEDAY_SECRET_PROM_TOKEN}' } },
            },
          },
          every: '200ms',
          abortWhen: { consecutiveFailures: 30 },
        },
      ],
    });
    const file = await writeExperiment(experiment);
    const queue = uniqueName('q');
    const env = { ...cliEnv(queue), GAMEDAY_SECRET_PROM_TOKEN: secret };
    const worker = await startWorkerProcess(env);
    const out = await scratchDir('out');
    const runId = uniqueName('authd');
    const run = await gameday(['run', file, '--out', out, '--id', runId], env).done;
    worker.child.kill('SIGTERM');

    // The steady state held through the gateway (the token was sent), and the quoting guardrail aborted.
    expect(run.code).toBe(2);
    const dir = join(out, runId);
    const files = await Promise.all(
      ['journal.json', 'report.html', 'report.md', 'junit.xml'].map((name) =>
        readFile(join(dir, name), 'utf8'),
      ),
    );
    const journal = JSON.parse(files[0] as string) as Journal;
    expect(journal.steadyStateBefore?.ok).toBe(true);
    const quoted = journal.phases[0]?.watch?.guardrails.map((g) => g.topErrors[0]?.message);
    expect(quoted).toEqual([
      'prometheus unauthorized: rejected Bearer <secret>',
      'prometheus unauthorized: rejected Basic <secret>',
    ]);
    const client = await testClient();
    const history = await client.workflow.getHandle(runId).fetchHistory();
    await client.connection.close();
    const everything = [...files, JSON.stringify(history), run.stdout, run.stderr, worker.output()].join(
      '\n',
    );
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(Buffer.from(secret).toString('base64'));
    expect(everything).not.toContain(Buffer.from(`gameday:${secret}`).toString('base64'));
  });
});
