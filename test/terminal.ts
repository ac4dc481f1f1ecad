/**
 * The CLI in a real terminal: a pseudo-terminal made by util-linux `script`, whose master this
 * test holds. Typing Ctrl-C writes \x03 to the master; the kernel's line discipline turns it into
 * SIGINT for the terminal's whole foreground process group, exactly as a person's keyboard does.
 * And the processes a test leaves behind, found by a path only that test uses.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { freePort } from '../src/lab/ports';
import { PROJECT_ROOT } from '../src/tools';
import { type CliResult, scratchDir, uniqueName } from './helpers';

export interface TerminalProcess {
  /** What the terminal showed, colour and cursor movements removed. */
  screen(): string;
  typeCtrlC(): void;
  done: Promise<Pick<CliResult, 'code' | 'signal'> & { screen: string }>;
}

const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/** `gameday ...` as the foreground job of a fresh terminal (exec'd, so no shell stands between). */
export function gamedayInTerminal(args: string[], env: Record<string, string | undefined>): TerminalProcess {
  const command = [process.execPath, join(PROJECT_ROOT, 'bin/gameday.js'), ...args].map(quote).join(' ');
  const merged: Record<string, string> = { SHELL: '/bin/sh', TERM: 'xterm-256color' };
  for (const [name, value] of Object.entries({ ...process.env, ...env }))
    if (value !== undefined) merged[name] = value;
  const child = spawn(
    'script',
    [
      '--quiet',
      '--return',
      '--echo',
      'never',
      '--command',
      `stty cols 160 rows 50; exec ${command}`,
      '/dev/null',
    ],
    { cwd: PROJECT_ROOT, env: merged, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let raw = '';
  child.stdout.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
  });
  const screen = () => withoutEscapes(raw);
  const done = new Promise<Pick<CliResult, 'code' | 'signal'> & { screen: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, screen: screen() }));
  });
  // Closing the master hangs the terminal up: whatever still runs in it gets SIGHUP.
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { screen, typeCtrlC: () => child.stdin.write('\x03'), done };
}

function withoutEscapes(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
      .replace(/\x1b\][^\x07]*\x07/g, '')
      .replace(/\r/g, '')
  );
}

/** Pids of the processes (of any parentage) whose command line mentions `text`, e.g. a scratch path. */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(text)) pids.push(Number(entry));
    } catch {
      // it ended while we looked
    }
  }
  return pids;
}

/** Whatever happens in the test, no process that mentions `text` outlives it. */
export function killLeftoversAfterTest(text: string): void {
  onTestFinished(() => {
    for (const pid of processesMentioning(text)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * The environment of a `gameday ... --local` with no TEMPORAL_ADDRESS: its own GAMEDAY_HOME and
 * port, so it starts an embedded server of its own; whatever happens in the test, no embedded
 * server of that home outlives it.
 */
export async function localCliEnv(queue: string) {
  const home = await scratchDir('home');
  const port = await freePort();
  killLeftoversAfterTest(home);
  return {
    home,
    port,
    address: `127.0.0.1:${port}`,
    env: {
      TEMPORAL_ADDRESS: undefined,
      GAMEDAY_HOME: home,
      GAMEDAY_LOCAL_PORT: String(port),
      GAMEDAY_TASK_QUEUE: uniqueName(queue),
    },
  };
}
