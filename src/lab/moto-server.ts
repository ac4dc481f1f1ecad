/** A moto server (the AWS API emulator, from .tools) on a loopback port, for the tests and the lab. */
import { spawn } from 'node:child_process';
import { stopProcess } from '../temporal/dev-server';
import { toolBinary } from '../tools';

export interface MotoServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startMoto(port: number, timeoutMs = 20_000): Promise<MotoServer> {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(toolBinary('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`moto_server exited with ${child.exitCode}: ${stderr.trim()}`);
    try {
      if ((await fetch(`${url}/moto-api/data.json`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`moto_server on ${url} not ready after ${timeoutMs}ms: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, pid: child.pid ?? -1, stop: () => stopProcess(child) };
}

/**
 * How moto moves a model through its states (docs.getmoto.org, state transitions). Server-wide:
 * a test that changes it should have a moto server of its own.
 */
export async function setMotoTransition(
  url: string,
  model: string,
  transition: Record<string, unknown>,
): Promise<void> {
  const response = await fetch(`${url}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    body: JSON.stringify({ model_name: model, transition }),
  });
  if (!response.ok)
    throw new Error(`moto set-transition ${model}: ${response.status} ${await response.text()}`);
}
