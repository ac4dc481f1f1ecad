/**
 * A small service for the demo and the tests: `checkout` calls `payments` through a Toxiproxy
 * proxy. Checkout is built to survive a slow or missing payments service: it waits at most
 * `paymentsTimeoutMs`, then answers 200 with the payment marked pending, so its steady state
 * holds through the example experiments. `fragile: true` turns that off, to show a deviation.
 */
import { createServer, type Server } from 'node:http';

export interface CheckoutDemoOptions {
  checkoutPort: number;
  paymentsPort: number;
  /** Where checkout reaches payments: the proxy's listen address. */
  paymentsUrl: string;
  paymentsTimeoutMs?: number;
  fragile?: boolean;
}

export interface CheckoutDemo {
  checkoutUrl: string;
  stop(): Promise<void>;
}

export async function startCheckoutDemo(options: CheckoutDemoOptions): Promise<CheckoutDemo> {
  const payments = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"paid"}');
  });
  const checkout = createServer(async (request, response) => {
    if (request.method === 'POST' && request.url === '/admin/cache/reset') {
      response.writeHead(204).end();
      return;
    }
    if (request.url !== '/checkout') {
      response.writeHead(404).end();
      return;
    }
    try {
      const paid = await fetch(`${options.paymentsUrl}/pay`, {
        signal: AbortSignal.timeout(options.paymentsTimeoutMs ?? 300),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end(await paid.text());
    } catch {
      if (options.fragile) {
        response
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"error":"payments unavailable"}');
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"pending"}');
      }
    }
  });
  await listen(payments, options.paymentsPort);
  await listen(checkout, options.checkoutPort);
  return {
    checkoutUrl: `http://127.0.0.1:${options.checkoutPort}`,
    stop: async () => {
      await Promise.all([close(checkout), close(payments)]);
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
