/**
 * The lab's front load balancer. It routes each request to a healthy target, round robin, and
 * checks every target actively. The checks do not go to the targets directly: they go through the
 * `health-checks` Toxiproxy proxy to a relay, so a fault there makes checks fail while the
 * targets still serve, which is how load balancers removed healthy capacity on October 20.
 */
import {
  createServer,
  get as httpGet,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Build } from './builds';
import { metered } from './metrics';

interface Target {
  id: string;
  /** host:port of the target's ingress (its own Toxiproxy proxy). */
  address: string;
  healthy: boolean;
  /** Has been healthy since it joined: it has served, so its network had arrived. */
  proven: boolean;
  passes: number;
  failures: number;
}

export interface LoadBalancerOptions {
  behaviour: Build['loadBalancer'];
  healthCheckTimeoutMs: number;
}

export class LoadBalancer {
  private readonly targets = new Map<string, Target>();
  private next = 0;
  private checker: NodeJS.Timeout | undefined;
  private server: Server | undefined;
  private relay: Server | undefined;
  /** Where health checks go: the relay, reached through the health-checks proxy. */
  private healthCheckVia = '';

  constructor(private readonly options: LoadBalancerOptions) {}

  /** A target joins (or, with a new address, rejoins) with the health a new target gets. */
  register(id: string, address: string): void {
    const existing = this.targets.get(id);
    if (existing?.address === address) return;
    const healthy = this.options.behaviour.newTargetsHealthy;
    this.targets.set(id, { id, address, healthy, proven: healthy, passes: 0, failures: 0 });
  }

  deregister(id: string): void {
    this.targets.delete(id);
  }

  snapshot() {
    return [...this.targets.values()].map(({ id, address, healthy }) => ({ id, address, healthy }));
  }

  /** Listens (on ports the system picks) for traffic and for the health-check relay. */
  async listen(): Promise<{ port: number; relayPort: number }> {
    this.server = createServer((request, response) => void this.route(request, response));
    this.server.keepAliveTimeout = 1_000;
    this.relay = createServer((request, response) => void this.relayCheck(request, response));
    const [port, relayPort] = await Promise.all([listen(this.server), listen(this.relay)]);
    return { port, relayPort };
  }

  startHealthChecks(via: string): void {
    this.healthCheckVia = via;
    this.checker = setInterval(() => void this.checkAll(), this.options.behaviour.healthCheckIntervalMs);
  }

  async close(): Promise<void> {
    clearInterval(this.checker);
    await Promise.all([close(this.server), close(this.relay)]);
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (metered('load-balancer', request, response)) return;
    if (request.url === '/lb/health') {
      response.writeHead(200).end('ok');
      return;
    }
    const body = await readBody(request);
    const { failOpen, retryOnConnectionError } = this.options.behaviour;
    let candidates = [...this.targets.values()].filter((t) => t.healthy);
    // Failing open while checks flap must not send traffic to new capacity that never passed one
    // (its network may not have arrived, as on October 20): the proven targets first, if any.
    if (candidates.length === 0 && failOpen) {
      const all = [...this.targets.values()];
      const proven = all.filter((t) => t.proven);
      candidates = proven.length > 0 ? proven : all;
    }
    if (candidates.length === 0) {
      response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"no healthy target"}');
      return;
    }
    const first = this.next++ % candidates.length;
    // Each target at most once: after a lost host comes back into a network backlog while another
    // is lost, two of four proven targets lead nowhere, and one retry meets the second as often
    // as not. A connection refused costs nothing; a request sent twice never happens (answered).
    const tries = retryOnConnectionError ? candidates.length : 1;
    for (let i = 0; i < tries; i++) {
      const target = candidates[(first + i) % candidates.length] as Target;
      const forwarded = await forward(target.address, request, body, response);
      if (forwarded) return;
    }
    if (!response.headersSent)
      response.writeHead(502, { 'content-type': 'application/json' }).end('{"error":"target unreachable"}');
  }

  private async checkAll(): Promise<void> {
    const { healthyThreshold, unhealthyThreshold } = this.options.behaviour;
    await Promise.all(
      [...this.targets.values()].map(async (target) => {
        const ok = await this.check(target.id);
        if (ok) {
          target.failures = 0;
          target.passes++;
          if (target.passes >= healthyThreshold) {
            target.healthy = true;
            target.proven = true;
          }
        } else {
          target.passes = 0;
          target.failures++;
          if (target.failures >= unhealthyThreshold) target.healthy = false;
        }
      }),
    );
  }

  /** One check on a connection of its own, as a load balancer's health checker does. */
  private check(id: string): Promise<boolean> {
    const via = new URL(this.healthCheckVia);
    return new Promise((resolve) => {
      const check = httpGet(
        {
          host: via.hostname,
          port: Number(via.port),
          path: `/check/${encodeURIComponent(id)}`,
          agent: false,
          timeout: this.options.healthCheckTimeoutMs,
        },
        (answer) => {
          answer.resume();
          answer.on('end', () => resolve((answer.statusCode ?? 500) < 400));
          answer.on('error', () => resolve(false));
        },
      );
      check.on('timeout', () => check.destroy());
      check.on('error', () => resolve(false));
    });
  }

  /** The health-check relay: asks one target's /health through that target's own ingress. */
  private async relayCheck(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const id = decodeURIComponent((request.url ?? '').replace(/^\/check\//, ''));
    const target = this.targets.get(id);
    if (!target) {
      response.writeHead(404).end();
      return;
    }
    try {
      const answer = await fetch(`http://${target.address}/health`, {
        signal: AbortSignal.timeout(this.options.healthCheckTimeoutMs),
      });
      await answer.arrayBuffer();
      response.writeHead(answer.status).end();
    } catch {
      response.writeHead(502).end();
    }
  }
}

/** Sends the request to one target; false when no connection could be made (worth trying another). */
function forward(
  address: string,
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
): Promise<boolean> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const upstream = httpRequest(
      {
        host,
        port: Number(port),
        method: request.method,
        path: request.url,
        headers: request.headers,
        timeout: 10_000,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
        answer.on('end', () => resolve(true));
        answer.on('error', () => resolve(true));
      },
    );
    upstream.on('error', () => resolve(response.headersSent));
    upstream.on('timeout', () => upstream.destroy());
    upstream.end(body);
  });
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
}

function close(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
