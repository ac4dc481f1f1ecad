/**
 * Starting, stopping and reading the October 20 lab from outside: `gameday lab up|down|status|env`,
 * the demo and the tests. The lab itself is src/lab/supervisor.ts, run as a detached process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
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
    /** The lab's AWS endpoint: moto behind the front that honours FIS experiments. */
    aws: string;
    dynamodb: string;
    admin: string;
    /** host:port of the lab's DNS server (UDP and TCP). */
    dns: string;
    /** The lab's Prometheus, scraping the fleet and the load balancer every second. */
    prometheus?: string;
  };
  /** The private hosted zone on moto that holds DynamoDB's name, which the lab's DNS server answers from. */
  dnsZone: { id: string; name: string; dynamodb: string };
  /** host:port each lab proxy listens on. */
  proxies: Record<'dynamodb' | 'ec2-api' | 'network-manager' | 'health-checks', string>;
  /**
   * The multi-region build's second region: its dynalite, its name in a zone of its own, the
   * `dynamodb-us-west-2` proxy its name leads to, and the replication lag the lab started with.
   */
  secondRegion?: {
    name: 'us-west-2';
    dynamodb: string;
    dnsZone: { id: string; name: string; dynamodb: string };
    proxy: string;
    replicationLagMs: number;
  };
  pids: { temporal: number; toxiproxy: number; moto: number; prometheus?: number };
}

export const DEFAULT_LAB_HOME = '.gameday/lab';

/**
 * How long the multi-region lab's writes take to reach the other region. Global tables usually
 * replicate within a second, and lag further when a region is in trouble (on October 20,
 * replication to and from us-east-1 lagged for hours); 2s is a region under strain.
 */
export const DEFAULT_REPLICATION_LAG_MS = 2_000;

export async function labUp(
  options: {
    home?: string;
    build?: BuildName;
    size?: number;
    timeoutMs?: number;
    /** The multi-region build's replication lag (DEFAULT_REPLICATION_LAG_MS). */
    replicationLagMs?: number;
  } = {},
): Promise<LabInfo> {
  const home = resolve(options.home ?? DEFAULT_LAB_HOME);
  const previous = await supervisorPid(home);
  if (previous && isLabProcess(previous)) {
    throw new LabError(`a lab is already up in ${home} (pid ${previous}); gameday lab down first`);
  }
  // What a lab that died without cleaning up (SIGKILL, a reboot) left there goes first.
  if (previous) await labDown({ home });
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
      '--replication-lag',
      String(options.replicationLagMs ?? DEFAULT_REPLICATION_LAG_MS),
    ],
    { cwd: PROJECT_ROOT, detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const info = await readLab(home);
    if (info && info.pid === child.pid) return info;
    if (child.exitCode !== null || !isAlive(child.pid ?? -1)) {
      await labDown({ home });
      throw new LabError(`the lab did not start; its log says:\n${(await tail(logFile)).trim()}`);
    }
    if (Date.now() > deadline) {
      await labDown({ home });
      throw new LabError(`the lab was not ready in time; its log is ${logFile}`);
    }
    await new Promise((done) => setTimeout(done, 200));
  }
}

/**
 * Stops the lab and makes sure none of its processes is left; returns the pids it had to kill.
 * The supervisor leads a process group of its own, which its servers and instances share, so
 * whatever is left is found by group, even after the supervisor itself was killed.
 */
export async function labDown(
  options: { home?: string } = {},
): Promise<{ stopped: boolean; killed: number[] }> {
  const home = resolve(options.home ?? DEFAULT_LAB_HOME);
  const pid = await supervisorPid(home);
  if (!pid) return { stopped: false, killed: [] };
  if (isLabProcess(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 30_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
  }
  const killed: number[] = [];
  for (const left of labProcesses(pid)) {
    if (!isAlive(left)) continue;
    process.kill(left, 'SIGKILL');
    killed.push(left);
  }
  await rm(join(home, 'lab.json'), { force: true });
  await rm(join(home, 'lab.pid'), { force: true });
  return { stopped: true, killed };
}

/** The supervisor's pid, from lab.json, or from lab.pid for a lab that never got ready. */
async function supervisorPid(home: string): Promise<number | null> {
  const info = await readLab(home);
  if (info) return info.pid;
  try {
    return Number((await readFile(join(home, 'lab.pid'), 'utf8')).trim()) || null;
  } catch {
    return null;
  }
}

const LAB_PROGRAMS =
  /src\/lab\/(supervisor|orders-instance)\.ts|toxiproxy-server|moto_server|temporal server start-dev|prometheus --config\.file/;

/**
 * The processes of the lab whose supervisor was `pid`: its process group, and only programs a lab
 * runs (after a reboot, the numbers may belong to someone else).
 */
export function labProcesses(pid: number): number[] {
  try {
    const listed = execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' });
    return listed
      .split('\n')
      .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
      .filter(
        (m): m is RegExpExecArray => m !== null && Number(m[2]) === pid && LAB_PROGRAMS.test(m[3] ?? ''),
      )
      .map((m) => Number(m[1]));
  } catch {
    return [];
  }
}

function isLabProcess(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return LAB_PROGRAMS.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
  } catch {
    return true; // no /proc: trust the pid file
  }
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

/** Sets the multi-region lab's replication lag while it runs; what is pending waits the new lag. */
export async function setReplicationLag(info: LabInfo, lagMs: number): Promise<void> {
  const answer = await fetch(`${info.endpoints.admin}/lab/replication`, {
    method: 'POST',
    body: JSON.stringify({ lagMs }),
    signal: AbortSignal.timeout(3_000),
  });
  if (!answer.ok) throw new LabError(`setting the replication lag: ${answer.status} ${await answer.text()}`);
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
    // Through the AWS front, so FIS experiments report FIS's own lifecycle (aws-front.ts).
    AWS_ENDPOINT_URL: info.endpoints.aws,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'lab',
    AWS_SECRET_ACCESS_KEY: 'lab',
    GAMEDAY_LAB_ORDERS: info.endpoints.orders,
    // What experiments/aws call the service they test, in the lab as in an account.
    ORDERS_URL: info.endpoints.orders,
    ...(info.endpoints.prometheus ? { PROMETHEUS_URL: info.endpoints.prometheus } : {}),
  };
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
