/**
 * Which Temporal a `--local` run uses: the configured one if TEMPORAL_ADDRESS (or a profile)
 * names one; else the embedded dev server of GAMEDAY_HOME (default .gameday/), on 127.0.0.1:7233
 * unless GAMEDAY_LOCAL_PORT says otherwise, with its database in the home, so a run left behind
 * by a crash resumes the next time a server and a worker start on it.
 *
 * The embedded server belongs to a keeper process (server-keeper.ts) in a session of its own: a
 * Ctrl-C typed in the terminal, or `timeout`/systemd/`docker stop` signalling the CLI's process
 * group, reaches the CLI but not the server, so the CLI can still roll back. Every gameday process
 * that uses it holds it through the keeper's socket; it stops when the last holder ends, however
 * that one ends (SIGKILL included), so it never runs on for nobody.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT, toolBinary } from '../tools';
import { DEFAULT_ADDRESS, type TemporalTarget, temporalTarget } from './connection';
import { devServerArgs, isServing } from './dev-server';
import { EmbeddedServerError } from './embedded-error';
import { ANOTHER_KEEPER, type KeeperConfig } from './server-keeper';

// From the project root, not from this module: the compiled CLI runs from dist/<build>/.
const KEEPER = join(PROJECT_ROOT, 'src/temporal/server-keeper.ts');
const START_TIMEOUT_MS = 60_000;
const LOG_ROTATE_BYTES = 1024 * 1024;

export interface EmbeddedServer {
  address: string;
  home: string;
  dbFile: string;
  logFile: string;
  /** Resolves, saying why, if the server goes away while this process holds it. */
  lost: Promise<string>;
  /** Lets go of the server; it stops (and this waits for that) unless another process holds it. */
  release(): Promise<void>;
}

export interface LocalTemporal {
  target: TemporalTarget;
  /** The embedded server this process holds, or null for one it merely uses. */
  server: EmbeddedServer | null;
  /** Whether this is the home's local address (GAMEDAY_LOCAL_PORT), not a configured Temporal. */
  embedded: boolean;
  note: string | null;
}

export async function localTemporal(
  env: Record<string, string | undefined> = process.env,
): Promise<LocalTemporal> {
  const configured = temporalTarget(env);
  if (configured.configured) return { target: configured, server: null, embedded: false, note: null };

  const port = Number(env.GAMEDAY_LOCAL_PORT ?? DEFAULT_ADDRESS.split(':')[1]);
  const address = `127.0.0.1:${port}`;
  const target = temporalTarget({ ...env, TEMPORAL_ADDRESS: address });
  const home = localHome(env);
  const dbFile = join(home, 'temporal.db');
  const logFile = join(home, 'temporal.log');
  const socketPath = keeperSocket(home);
  const deadline = Date.now() + START_TIMEOUT_MS;

  let keeper: ChildProcess | null = null;
  for (;;) {
    const hold = await holdServer(socketPath);
    if (hold !== 'absent' && hold !== 'refused') {
      await untilServing(address, hold, logFile, deadline);
      const server = { address, home, dbFile, logFile, lost: hold.lost, release: hold.release };
      const note = keeper
        ? `started an embedded Temporal dev server at ${address} (UI http://127.0.0.1:${port + 1000}, data ${dbFile})`
        : `using the embedded Temporal dev server at ${address} (data ${dbFile}) that another gameday --local ` +
          'started; it stops when the last one using it ends';
      return { target, server, embedded: true, note };
    }
    // A keeper that refuses is stopping its server: wait for it to go, then start a new one.
    if (hold === 'absent' && keeper === null) {
      if (await isServing(address)) {
        return {
          target,
          server: null,
          embedded: true,
          note: `using the Temporal server already serving at ${address}; gameday did not start it for ${home} and leaves it running`,
        };
      }
      keeper = await spawnKeeper(home, logFile, {
        binary: temporalBinary(),
        args: devServerArgs({ port, uiPort: port + 1000, dbFile }),
        socketPath,
      });
    } else if (keeper?.exitCode === ANOTHER_KEEPER) {
      keeper = null; // another process started one at the same moment: hold that one
    } else if (keeper && keeper.exitCode !== null) {
      throw new EmbeddedServerError(
        `the embedded Temporal server did not start; ${logFile} ends with:\n${await tail(logFile)}`,
      );
    }
    if (Date.now() > deadline)
      throw new EmbeddedServerError(
        `the embedded Temporal server at ${address} did not start in time; see ${logFile}`,
      );
    await sleep(50);
  }
}

/** GAMEDAY_HOME: where the embedded server keeps its database, log and socket. */
export function localHome(env: Record<string, string | undefined> = process.env): string {
  return resolve(env.GAMEDAY_HOME ?? '.gameday');
}

/** Whether `--local` would use the embedded server of GAMEDAY_HOME rather than a configured Temporal. */
export function usesEmbedded(env: Record<string, string | undefined> = process.env): boolean {
  return !temporalTarget(env).configured;
}

/** Where the keeper listens: in the home, unless that path is too long for a unix socket. */
export function keeperSocket(home: string): string {
  const inHome = join(home, 'temporal.sock');
  if (Buffer.byteLength(inHome) <= 100) return inHome;
  return join(
    tmpdir(),
    `gameday-temporal-${createHash('sha256').update(home).digest('hex').slice(0, 16)}.sock`,
  );
}

interface Hold {
  lost: Promise<string>;
  release(): Promise<void>;
}

/** Joins the keeper on the socket: a hold, 'absent' (no keeper) or 'refused' (it is stopping). */
function holdServer(socketPath: string): Promise<Hold | 'absent' | 'refused'> {
  return new Promise((settle) => {
    const socket: Socket = connect(socketPath);
    let connected = false;
    let held = false;
    let releasing = false;
    let lastWords = '';
    let text = '';
    let onLost: (why: string) => void = () => undefined;
    const lost = new Promise<string>((resolve) => {
      onLost = resolve;
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

    socket.on('connect', () => {
      connected = true;
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      for (let newline = text.indexOf('\n'); newline >= 0; newline = text.indexOf('\n')) {
        const line = text.slice(0, newline);
        text = text.slice(newline + 1);
        if (line === 'held' && !held) {
          held = true;
          settle({ lost, release });
        } else if (line.startsWith('exited ')) {
          lastWords = line.slice('exited '.length);
        }
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!held) settle(connected ? 'refused' : 'absent');
      else if (!releasing)
        onLost(
          lastWords
            ? `the embedded Temporal server exited (${lastWords})`
            : 'the embedded Temporal server went away (its keeper ended)',
        );
    });

    async function release(): Promise<void> {
      releasing = true;
      socket.end();
      const timeout = sleep(15_000).then(() => socket.destroy());
      await Promise.race([closed, timeout]);
    }
  });
}

async function untilServing(address: string, hold: Hold, logFile: string, deadline: number) {
  let gone: string | null = null;
  void hold.lost.then((why) => {
    gone = why;
  });
  for (;;) {
    if (gone) throw new EmbeddedServerError(`${gone}; ${logFile} ends with:\n${await tail(logFile)}`);
    if (await isServing(address)) return;
    if (Date.now() > deadline) {
      await hold.release();
      throw new EmbeddedServerError(
        `the embedded Temporal server at ${address} did not start in time; see ${logFile}`,
      );
    }
    await sleep(100);
  }
}

async function spawnKeeper(home: string, logFile: string, config: KeeperConfig): Promise<ChildProcess> {
  await mkdir(home, { recursive: true });
  const size = await stat(logFile).then(
    (s) => s.size,
    () => 0,
  );
  if (size > LOG_ROTATE_BYTES) await rename(logFile, `${logFile}.1`);
  const log = openSync(logFile, 'a');
  try {
    // detached: a session and process group of its own, away from the terminal's signals.
    const child = spawn(process.execPath, ['--import', 'tsx', KEEPER, JSON.stringify(config)], {
      cwd: PROJECT_ROOT,
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}

async function tail(file: string, bytes = 2_000): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const buffer = Buffer.alloc(Math.min(bytes, size));
      await handle.read(buffer, 0, buffer.length, Math.max(0, size - buffer.length));
      return buffer.toString().trim();
    } finally {
      await handle.close();
    }
  } catch {
    return '(no log)';
  }
}

function temporalBinary(): string {
  try {
    return toolBinary('temporal');
  } catch (error) {
    throw new EmbeddedServerError((error as Error).message);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
