/**
 * Which Temporal a `--local` run uses: the configured one if TEMPORAL_ADDRESS (or a profile)
 * names one; else an embedded dev server on 127.0.0.1:7233 with its database under .gameday/,
 * reusing one already serving there so a run left behind by a crash resumes.
 */
import { join, resolve } from 'node:path';
import { DEFAULT_ADDRESS, type TemporalTarget, temporalTarget } from './connection';
import { type DevServer, isServing, startDevServer } from './dev-server';

export interface LocalTemporal {
  target: TemporalTarget;
  server: DevServer | null;
  note: string | null;
}

export async function localTemporal(
  env: Record<string, string | undefined> = process.env,
): Promise<LocalTemporal> {
  const configured = temporalTarget(env);
  if (configured.configured) return { target: configured, server: null, note: null };

  const port = Number(env.GAMEDAY_LOCAL_PORT ?? DEFAULT_ADDRESS.split(':')[1]);
  const address = `127.0.0.1:${port}`;
  const target = temporalTarget({ ...env, TEMPORAL_ADDRESS: address });
  if (await isServing(address)) {
    return { target, server: null, note: `using the Temporal server already serving at ${address}` };
  }
  const dbFile = join(resolve(env.GAMEDAY_HOME ?? '.gameday'), 'temporal.db');
  const server = await startDevServer({ port, uiPort: port + 1000, dbFile });
  return {
    target,
    server,
    note: `started an embedded Temporal dev server at ${address} (UI ${server.uiUrl}, data ${dbFile})`,
  };
}
