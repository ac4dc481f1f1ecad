/** A local HTTP receiver for webhooks: records every request, answers with a chosen status per path. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface Received {
  path: string;
  body: Record<string, unknown>;
}

export async function startReceiver(statusFor: (path: string) => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: JSON.parse(text || '{}') });
      response.writeHead(statusFor(request.url ?? '')).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    /** What arrived at one path, in order. */
    at: (path: string) => received.filter((r) => r.path === path).map((r) => r.body),
  };
}
