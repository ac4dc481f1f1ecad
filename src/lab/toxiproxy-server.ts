/** A Toxiproxy server process (from .tools) on a loopback port, for the demo and the tests. */
import { spawn } from 'node:child_process';
import { stopProcess } from '../temporal/dev-server';
import { toolBinary } from '../tools';

export interface ToxiproxyServer {
  url: string;
  pid: number;
  /** What the server has logged (its stdout), when started with a logLevel. */
  log(): string;
  stop(): Promise<void>;
}

export interface ToxiproxyOptions {
  timeoutMs?: number;
  /** Toxiproxy's LOG_LEVEL; its log is kept (see log()) only when one is given. Default: error, not kept. */
  logLevel?: string;
}

export async function startToxiproxy(port: number, options: ToxiproxyOptions = {}): Promise<ToxiproxyServer> {
  const { timeoutMs = 10_000, logLevel } = options;
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(toolBinary('toxiproxy-server'), ['-host', '127.0.0.1', '-port', String(port)], {
    stdio: ['ignore', logLevel ? 'pipe' : 'ignore', 'pipe'],
    env: { ...process.env, LOG_LEVEL: logLevel ?? 'error' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-1_000_000);
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
  return { url, pid: child.pid ?? -1, log: () => log, stop: () => stopProcess(child) };
}
