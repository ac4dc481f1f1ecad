/**
 * GET a Prometheus HTTP API path (docs: prometheus.io/docs/prometheus/latest/querying/api) with
 * the probe's auth and TLS, as Prometheus's own `tls_config` and `authorization`/`basic_auth`
 * read them: a CA file, a server name, insecure_skip_verify; a bearer token or a user and password.
 * Secrets are `${GAMEDAY_SECRET_*}` references in the plan, filled in here on the worker.
 */
import { readFile } from 'node:fs/promises';
import { fillInSecrets, withoutSecretValues } from '../../experiment/worker-secrets';
import { describeFetchError } from './http';

export interface PrometheusAuthPlan {
  /** `${GAMEDAY_SECRET_*}`: sent as `Authorization: Bearer <token>`. */
  bearer?: string;
  basic?: { username: string; password: string };
}

export interface PrometheusTlsPlan {
  caFile?: string;
  serverName?: string;
  insecureSkipVerify?: boolean;
}

export interface PrometheusServerPlan {
  url: string;
  timeoutMs: number;
  auth?: PrometheusAuthPlan;
  tls?: PrometheusTlsPlan;
}

/** What Prometheus answered: its data on success, or its own error type and message. */
export type ApiAnswer<T> = { ok: true; data: T } | { ok: false; error: string; httpStatus?: number };

export async function prometheusGet<T>(
  server: PrometheusServerPlan,
  path: string,
  params: Record<string, string>,
  signal?: AbortSignal,
): Promise<ApiAnswer<T>> {
  const secrets = [server.auth?.bearer ?? '', server.auth?.basic?.password ?? ''];
  let header: string | undefined;
  // A server may quote the Authorization it refused; basic auth's is the secret in base64.
  const blank = (message: string) => {
    const blanked = withoutSecretValues(message, secrets);
    const credential = header?.split(' ')[1];
    return credential ? blanked.replaceAll(credential, '<secret>') : blanked;
  };
  try {
    header = authorization(server.auth);
    const url = new URL(path.replace(/^\//, ''), server.url.endsWith('/') ? server.url : `${server.url}/`);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    const { status, body } = await get(url, server, header, signal);
    let parsed: { status?: string; data?: T; errorType?: string; error?: string } | undefined;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (parsed?.status === 'success') return { ok: true, data: parsed.data as T };
    if (parsed?.status === 'error')
      return {
        ok: false,
        httpStatus: status,
        error: blank(`prometheus ${parsed.errorType}: ${parsed.error}`),
      };
    return {
      ok: false,
      httpStatus: status,
      error: blank(`prometheus answered ${status}: ${body.slice(0, 200).trim()}`),
    };
  } catch (error) {
    return { ok: false, error: blank(describeFetchError(error)) };
  }
}

function authorization(auth: PrometheusAuthPlan | undefined): string | undefined {
  if (auth?.bearer) return `Bearer ${fillInSecrets(auth.bearer, 'prometheus auth.bearer')}`;
  if (auth?.basic) {
    const password = fillInSecrets(auth.basic.password, 'prometheus auth.basic.password');
    return `Basic ${Buffer.from(`${auth.basic.username}:${password}`).toString('base64')}`;
  }
  return undefined;
}

async function get(
  url: URL,
  server: PrometheusServerPlan,
  header: string | undefined,
  signal?: AbortSignal,
): Promise<{ status: number; body: string }> {
  const https = url.protocol === 'https:';
  const ca = https && server.tls?.caFile ? await readFile(server.tls.caFile) : undefined;
  return new Promise((resolve, reject) => {
    const request = requestFunction(https)(
      url,
      {
        method: 'GET',
        headers: { Accept: 'application/json', ...(header ? { Authorization: header } : {}) },
        timeout: server.timeoutMs,
        signal,
        ...(https
          ? {
              ...(ca ? { ca } : {}),
              ...(server.tls?.serverName ? { servername: server.tls.serverName } : {}),
              rejectUnauthorized: !server.tls?.insecureSkipVerify,
            }
          : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${server.timeoutMs}ms`)));
    request.on('error', reject);
    request.end();
  });
}

/**
 * node:http and node:https as CommonJS modules, not ES imports: Node's ES module wrapper of
 * node:http reads every export, among them the lazy WebSocket and fetch classes, which loads
 * undici (~100 ms of CPU) in every command that loads the provider registry, `validate` and
 * `status` included, though only a worker sampling Prometheus ever sends a request.
 */
function requestFunction(https: boolean) {
  return https
    ? process.getBuiltinModule('node:https').request
    : process.getBuiltinModule('node:http').request;
}
