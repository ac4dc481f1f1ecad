/**
 * The keeper of an embedded Temporal dev server: a small process that starts the server as its
 * child and stops it when its last holder has gone. `gameday run --local` and `gameday worker
 * --local` spawn it in a session of its own (so the terminal's Ctrl-C and `timeout`'s SIGTERM to
 * the process group never reach the server) and hold it through a unix socket. The kernel closes
 * a holder's socket however the holder ends, SIGKILL included, so the server lives exactly as long
 * as someone uses it, and never forever.
 *
 * Protocol, one line each way: the keeper answers a new holder "held" (or closes it when it is
 * already stopping); a holder releases by ending its side; the keeper ends every socket only once
 * the server is stopped, after a last line "exited <why>" when the server died by itself.
 *
 * Run as `node --import tsx server-keeper.ts <json KeeperConfig>`, stdout and stderr on its log.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface KeeperConfig {
  binary: string;
  args: string[];
  socketPath: string;
}

/** How long a freshly spawned keeper waits for its first holder before it gives up. */
const FIRST_HOLDER_MS = 30_000;
const STOP_GRACE_MS = 5_000;
/** Exit code of a keeper that found another keeper already holding this home's server. */
export const ANOTHER_KEEPER = 3;

const log = (line: string) =>
  process.stderr.write(`${new Date().toISOString()} keeper[${process.pid}]: ${line}\n`);

/** Whether a keeper answers on the socket. */
export function keeperAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function keep(config: KeeperConfig): Promise<void> {
  if (await keeperAnswers(config.socketPath)) {
    log('another keeper already holds this server');
    process.exit(ANOTHER_KEEPER);
  }
  // A socket file left by a keeper that was killed answers nobody.
  await rm(config.socketPath, { force: true });

  const connected = new Set<Socket>();
  const released = new WeakSet<Socket>();
  const holders = () => [...connected].filter((socket) => !released.has(socket)).length;
  let stopping = false;

  const server = createServer({ allowHalfOpen: true }, (socket) => {
    if (stopping) {
      socket.destroy();
      return;
    }
    connected.add(socket);
    clearTimeout(firstHolder);
    socket.write('held\n');
    socket.resume();
    socket.on('end', () => {
      released.add(socket);
      if (holders() === 0) stop('its last holder released it');
      else socket.end();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      connected.delete(socket);
      if (!released.has(socket) && holders() === 0) stop('its last holder went away');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.socketPath, resolve);
  });

  const temporal = spawn(config.binary, config.args, { stdio: ['ignore', 'inherit', 'inherit'] });
  log(`started temporal (pid ${temporal.pid}): ${config.args.join(' ')}`);
  const firstHolder = setTimeout(() => stop('no holder came'), FIRST_HOLDER_MS);

  function stop(why: string) {
    if (stopping) return;
    stopping = true;
    log(`stopping the server: ${why}`);
    // The socket stays open, refusing newcomers, until the server is gone: whoever comes now
    // waits for it to stop instead of taking the stopping server for someone else's.
    temporal.kill('SIGTERM');
    setTimeout(() => temporal.kill('SIGKILL'), STOP_GRACE_MS).unref();
  }

  temporal.on('exit', (code, signal) => {
    const exited = signal ? `killed by ${signal}` : `exit code ${code}`;
    log(`temporal ${stopping ? 'stopped' : 'EXITED ON ITS OWN'} (${exited})`);
    for (const socket of connected) {
      if (!stopping) socket.write(`exited ${exited}\n`);
      socket.end();
    }
    server.close();
    void rm(config.socketPath, { force: true }).finally(() => {
      // Let the last lines reach the holders before this process goes.
      setTimeout(() => process.exit(stopping ? 0 : 1), 50);
    });
  });

  // Nobody's terminal reaches this session; a deliberate SIGTERM (or SIGINT) stops the server.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => undefined);
}

// Run as a program, not when embedded.ts imports what the two share.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  keep(JSON.parse(process.argv[2] ?? '{}') as KeeperConfig).catch((error: Error) => {
    log(`cannot keep the server: ${error.message}`);
    process.exit(1);
  });
}
