/**
 * Where Temporal is and how to reach it. Address, namespace, TLS client certificates and API key
 * come from the same environment variables and profile files as Temporal's own CLI
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE, ...).
 */
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
// The worker package loads Temporal's native bridge: only commands that run a worker pay for it.
import type { NativeConnection, NativeConnectionOptions } from '@temporalio/worker';

export const DEFAULT_ADDRESS = '127.0.0.1:7233';
const CONNECT_TIMEOUT_MS = 5_000;

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Whether anything (env or profile) named the address, as opposed to the default. */
  configured: boolean;
  connectionOptions: NativeConnectionOptions;
}

export function temporalTarget(env: Record<string, string | undefined> = process.env): TemporalTarget {
  const config = loadClientConnectConfig({ overrideEnvVars: definedOnly(env) });
  const address = config.connectionOptions.address ?? DEFAULT_ADDRESS;
  return {
    address,
    namespace: config.namespace ?? 'default',
    configured: config.connectionOptions.address !== undefined,
    connectionOptions: { ...config.connectionOptions, address },
  };
}

/** Temporal could not be reached: nothing ran (exit 69). */
export class TemporalUnavailable extends Error {
  override name = 'TemporalUnavailable';
  constructor(target: TemporalTarget, cause: unknown) {
    super(
      `Temporal is not reachable at ${target.address} (namespace ${target.namespace}): ${(cause as Error).message}.\n` +
        'Start one with `temporal server start-dev` (or .tools/bin/temporal after scripts/bootstrap), ' +
        'set TEMPORAL_ADDRESS to yours, or run with --local to start an embedded one.',
    );
  }
}

export async function connectClient(target: TemporalTarget): Promise<Client> {
  try {
    const { address, tls, apiKey, metadata } = target.connectionOptions;
    const connection = await Connection.connect({
      address,
      tls,
      apiKey: typeof apiKey === 'string' ? apiKey : undefined,
      metadata,
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
    return new Client({ connection, namespace: target.namespace });
  } catch (error) {
    throw new TemporalUnavailable(target, error);
  }
}

export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  const { NativeConnection } = await import('@temporalio/worker');
  try {
    return await NativeConnection.connect(target.connectionOptions);
  } catch (error) {
    throw new TemporalUnavailable(target, error);
  }
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
