/**
 * The processes the suite started, whoever started them. globalSetup puts GAMEDAY_TEST_SUITE in
 * the environment and test/setup/processes.ts puts GAMEDAY_TEST_OWNER there for each test, so
 * every process a test spawns inherits both, and so do the processes those spawn: a lab's
 * Toxiproxy, a CLI's embedded Temporal server, an orders instance. Linux shows the environment a
 * process was started with in /proc/<pid>/environ; that is how they are found, and they are ended
 * by pid.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const SUITE_MARK = 'GAMEDAY_TEST_SUITE';
export const OWNER_MARK = 'GAMEDAY_TEST_OWNER';

export interface MarkedProcess {
  pid: number;
  command: string;
}

/** Live processes started with `name=value` in their environment, this one and vitest's own aside. */
export function processesMarked(name: string, value: string): MarkedProcess[] {
  const found: MarkedProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (!carries(pid, `${name}=${value}`) || isZombie(pid)) continue;
    const command = commandOf(pid);
    // vitest's own workers inherit the suite's mark from the main process; they are not ours to end.
    if (command.includes('node_modules/vitest/')) continue;
    found.push({ pid, command });
  }
  return found;
}

/**
 * Gives the processes `graceMs` to end by themselves (a test's own cleanup may have just signalled
 * them), then SIGKILLs by pid each one still carrying the mark. Returns the ones it had to kill.
 */
export async function endProcesses(
  processes: MarkedProcess[],
  mark: string,
  graceMs = 10_000,
): Promise<MarkedProcess[]> {
  const deadline = Date.now() + graceMs;
  let alive = processes;
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    alive = alive.filter((p) => carries(p.pid, mark) && !isZombie(p.pid));
  }
  for (const { pid } of alive) {
    // Checked again just before: the pid must still be a process of ours.
    if (!carries(pid, mark)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ended on its own meanwhile
    }
  }
  return alive;
}

export function describeProcesses(processes: MarkedProcess[]): string {
  return processes.map((p) => `pid ${p.pid}: ${p.command.slice(0, 200)}`).join('; ');
}

function carries(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry);
  } catch {
    return false; // gone, or not ours to read
  }
}

function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '?';
  }
}
