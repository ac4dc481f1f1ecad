/** A Toxiproxy server process (from .tools) on a loopback port, for the demo and the tests. */
import { spawn } from 'node:child_process';
import { stopProcess } from '../temporal/dev-server';
import { toolBinary } from '../tools';

export interface ToxiproxyServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startToxiproxy(port: number, timeoutMs = 10_000): Promise<ToxiproxyServer> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(toolBinary('toxiproxy-server'), ['-host', '127.0.0.1', '-port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'error' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`toxiproxy-server exited with ${child.exitCode}: ${stderr.trim()}`);
    try {
      if ((await fetch(`${url}/version`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`toxiproxy-server on ${url} not ready after ${timeoutMs}ms: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, pid: child.pid ?? -1, stop: () => stopProcess(child) };
}
