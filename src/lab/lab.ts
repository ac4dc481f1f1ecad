/**
 * Starting, stopping and reading the October 20 lab from outside: `gameday lab up|down|status|env`,
 * the demo and the tests. The lab itself is src/lab/supervisor.ts, run as a detached process.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../tools';
import type { BuildName } from './builds';

export interface LabInfo {
  pid: number;
  build: BuildName;
  size: number;
  home: string;
  endpoints: {
    orders: string;
    temporal: string;
    toxiproxy: string;
    moto: string;
    dynamodb: string;
    admin: string;
  };
  /** host:port each lab proxy listens on. */
  proxies: Record<'dynamodb' | 'ec2-api' | 'network-manager' | 'health-checks', string>;
  pids: { temporal: number; toxiproxy: number; moto: number };
}

export const DEFAULT_LAB_HOME = '.gameday/lab';

export async function labUp(
  options: { home?: string; build?: BuildName; size?: number; timeoutMs?: number } = {},
): Promise<LabInfo> {
  const home = resolve(options.home ?? DEFAULT_LAB_HOME);
  const running = await readLab(home);
  if (running && isAlive(running.pid))
    throw new LabError(`a lab is already up in ${home} (pid ${running.pid}); gameday lab down first`);
  await mkdir(home, { recursive: true });
  const logFile = join(home, 'lab.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/lab/supervisor.ts',
      '--home',
      home,
      '--build',
      options.build ?? 'fragile',
      '--size',
      String(options.size ?? 4),
    ],
    { cwd: PROJECT_ROOT, detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const info = await readLab(home);
    if (info && info.pid === child.pid) return info;
    if (child.exitCode !== null || !isAlive(child.pid ?? -1)) {
      throw new LabError(`the lab did not start; its log says:\n${(await tail(logFile)).trim()}`);
    }
    if (Date.now() > deadline) {
      process.kill(child.pid ?? -1, 'SIGTERM');
      throw new LabError(`the lab was not ready in time; its log is ${logFile}`);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
}

/** Stops the lab and makes sure none of its processes is left; returns the pids it had to kill. */
export async function labDown(
  options: { home?: string } = {},
): Promise<{ stopped: boolean; killed: number[] }> {
  const home = resolve(options.home ?? DEFAULT_LAB_HOME);
  const info = await readLab(home);
  if (!info) return { stopped: false, killed: [] };
  const children = await childrenOf(info);
  if (isAlive(info.pid)) {
    process.kill(info.pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (isAlive(info.pid) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
  }
  const killed: number[] = [];
  for (const pid of [info.pid, ...children]) {
    if (isAlive(pid)) {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    }
  }
  const { rm } = await import('node:fs/promises');
  await rm(join(home, 'lab.json'), { force: true });
  return { stopped: true, killed };
}

export async function readLab(home: string = DEFAULT_LAB_HOME): Promise<LabInfo | null> {
  const file = join(resolve(home), 'lab.json');
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LabInfo;
  } catch {
    return null; // being written
  }
}

export async function labStatus(info: LabInfo): Promise<unknown> {
  const answer = await fetch(`${info.endpoints.admin}/lab/status`, { signal: AbortSignal.timeout(3_000) });
  return answer.json();
}

/** What experiments/oct20 and `gameday run` need to find this lab. */
export function labEnv(info: LabInfo): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: info.endpoints.temporal,
    TOXIPROXY_URL: info.endpoints.toxiproxy,
    AWS_ENDPOINT_URL: info.endpoints.moto,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'lab',
    AWS_SECRET_ACCESS_KEY: 'lab',
    GAMEDAY_LAB_ORDERS: info.endpoints.orders,
  };
}

/** Every process the lab runs: the servers, and each orders instance (children of the supervisor). */
export async function childrenOf(info: LabInfo): Promise<number[]> {
  const pids = [info.pids.temporal, info.pids.toxiproxy, info.pids.moto];
  try {
    const { execFileSync } = await import('node:child_process');
    const listed = execFileSync('ps', ['-o', 'pid=', '--ppid', String(info.pid)], { encoding: 'utf8' });
    pids.push(
      ...listed
        .split('\n')
        .map((line) => Number(line.trim()))
        .filter((pid) => pid > 0),
    );
  } catch {
    // no children, or no ps: the known servers are enough
  }
  return [...new Set(pids)].filter((pid) => pid > 0);
}

export function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) answers signal 0 but is no running process.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

export class LabError extends Error {
  override name = 'LabError';
}

async function tail(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}
