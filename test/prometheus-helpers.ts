/**
 * A real target for the suite's shared Prometheus: an HTTP service with the lab's prom-client
 * metrics that calls a dependency through its own Toxiproxy proxy (a gameday fault breaks it), kept
 * busy by steady traffic, and scraped every second through a file_sd target file of its own.
 */
import { createServer } from 'node:http';
import { inject, onTestFinished } from 'vitest';
import { metered } from '../src/lab/metrics';
import { writeTargetGroups } from '../src/lab/prometheus-server';
import { startTarget, type Target, uniqueName, waitFor } from './helpers';

export const prometheusUrl = () => inject('prometheusUrl');

export interface MeteredService {
  service: string;
  /** The dependency behind its proxy: a `down` fault on `dependency.proxy` makes requests 503. */
  dependency: Target;
  /** 5xx share of the last few seconds' requests, as an SLO dashboard writes it. */
  errorRatio: string;
  stop(): Promise<void>;
}

export async function startMeteredService(prefix = 'metered'): Promise<MeteredService> {
  const service = uniqueName(prefix);
  const dependency = await startTarget(`${prefix}-dep`);
  const server = createServer((request, response) => {
    if (metered(service, request, response)) return;
    fetch(dependency.url, { signal: AbortSignal.timeout(300) })
      .then((answer) => answer.arrayBuffer().then(() => answer.ok))
      .catch(() => false)
      .then((ok) => response.writeHead(ok ? 200 : 503).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
  let running = true;
  const traffic = (async () => {
    while (running) {
      await fetch(`http://${address}/orders`)
        .then((answer) => answer.arrayBuffer())
        .catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const targetsDir = inject('prometheusTargetsDir');
  await writeTargetGroups(targetsDir, service, [{ targets: [address] }]);
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      running = false;
      await traffic;
      await writeTargetGroups(targetsDir, service, []);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await dependency.stop();
    })();
    return stopped;
  };
  onTestFinished(stop);
  const requests = `gameday_lab_http_requests_total{service="${service}",route="GET /orders"}`;
  // `or vector(0)`: while nothing failed there is no 5xx series, and an empty numerator is no data.
  const errorRatio = `(sum(rate(${requests.replace('}', ',status=~"5.."}')}[3s])) or vector(0)) / sum(rate(${requests}[3s]))`;
  return { service, dependency, errorRatio, stop };
}

/** The value of an instant query, once Prometheus has one (the first scrapes take a second or two). */
export async function queryValue(query: string, url = prometheusUrl()): Promise<number> {
  return waitFor(
    async () => {
      const answer = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query })}`);
      const body = (await answer.json()) as { data: { result: { value: [number, string] }[] } };
      const value = body.data.result[0]?.value[1];
      return value === undefined || value === 'NaN' ? undefined : { value: Number(value) };
    },
    { what: `a value for ${query}`, intervalMs: 200, timeoutMs: 60_000 },
  ).then(({ value }) => value);
}
