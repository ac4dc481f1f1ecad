/**
 * What the lab's services tell Prometheus (prom-client, the Prometheus client for Node): requests
 * by route and status, their latency as a histogram, and AWS SDK errors by the SDK's `error.name`
 * (ProvisionedThroughputExceededException, InsufficientInstanceCapacity, TimeoutError, ...; for a
 * call that never reached AWS, Node's code: ENODATA), as the dashboards of October 20 showed them. One registry per process, served at `/metrics`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';

export const registry = new Registry();

const requests = new Counter({
  name: 'gameday_lab_http_requests_total',
  help: 'HTTP requests served, by service, route and status',
  labelNames: ['service', 'route', 'status'],
  registers: [registry],
});

const latency = new Histogram({
  name: 'gameday_lab_http_request_duration_seconds',
  help: 'Time from request to the end of the response, by service and route',
  labelNames: ['service', 'route'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

const awsErrors = new Counter({
  name: 'gameday_lab_aws_errors_total',
  help: 'AWS SDK calls that failed, by service and the error name the SDK gave',
  labelNames: ['service', 'error'],
  registers: [registry],
});

/**
 * Serves `/metrics` and answers true, or starts timing the request and answers false: the first
 * line of a service's request handler. Routes are what the service names (ids folded), so the
 * number of series stays bounded whatever clients ask for.
 */
export function metered(service: string, request: IncomingMessage, response: ServerResponse): boolean {
  const path = new URL(request.url ?? '/', 'http://lab').pathname;
  if (request.method === 'GET' && path === '/metrics') {
    void registry
      .metrics()
      .then((text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text));
    return true;
  }
  const route = `${request.method} ${routeOf(path)}`;
  const done = latency.startTimer({ service, route });
  response.once('close', () => {
    done();
    requests.inc({ service, route, status: response.headersSent ? String(response.statusCode) : 'none' });
  });
  return false;
}

function routeOf(path: string): string {
  if (path === '/orders' || path === '/health' || path === '/lb/health') return path;
  if (path.startsWith('/orders/')) return '/orders/:id';
  return 'other';
}

/** An AWS SDK client whose every failed call is counted by `error.name` (an SDK middleware). */
export function countAwsErrors<C extends { middlewareStack: { add: (...args: never[]) => unknown } }>(
  service: string,
  client: C,
): C {
  type Next = (args: unknown) => Promise<unknown>;
  const middleware = (next: Next) => async (args: unknown) => {
    try {
      return await next(args);
    } catch (error) {
      awsErrors.inc({ service, error: errorClass(error as NodeJS.ErrnoException) });
      throw error;
    }
  };
  (client.middlewareStack.add as unknown as (m: unknown, o: object) => void)(middleware, {
    step: 'initialize',
    name: 'gamedayLabAwsErrors',
  });
  return client;
}

/**
 * The SDK's error name; for a call that never reached AWS, Node's error code instead (the SDK
 * passes a failed lookup or connection on as a plain `Error` whose `code` says ENODATA,
 * ENOTFOUND, ECONNREFUSED): that is the class a client's dashboard tells apart.
 */
function errorClass(error: NodeJS.ErrnoException): string {
  if ((!error.name || error.name === 'Error') && typeof error.code === 'string') return error.code;
  return error.name || 'Error';
}
