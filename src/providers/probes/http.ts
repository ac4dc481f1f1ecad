/** The `http` probe: one request per sample, timed from send to the last byte of the body. */

import { z } from 'zod';
import { formatDuration, parseDuration } from '../../experiment/duration';
import { type HttpRequest, HttpRequest as HttpRequestSpec } from '../../experiment/http-schema';
import { filledIn, fillInSecrets, withoutSecretValues } from '../../experiment/worker-secrets';
import type { ProbeKind, Sample } from '../probe-kind';

/** An http probe in the file: a request, and optionally where a write's acknowledged id is in its answer. */
export const HttpProbeSpec = HttpRequestSpec.extend({
  ackId: z
    .string()
    .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'a JSON field name, or a dotted path such as order.id')
    .optional()
    .describe(
      'The JSON field (or dotted path) of a 2xx answer that holds the id of the write it acknowledged; the continuity plan reads those ids back',
    ),
});

export interface HttpRequestPlan {
  url: string;
  method: string;
  timeoutMs: number;
  /** Values may hold ${GAMEDAY_SECRET_*} references, filled in by the activity on the worker. */
  headers?: Record<string, string>;
  body?: string;
}

/** An http probe: the request, and the statuses that make one sample a success (null: 200-399). */
export interface HttpProbePlan extends HttpRequestPlan {
  okStatus: number[] | null;
  /** Where a 2xx answer holds the id of the write it acknowledged. */
  ackId?: string;
}

export function planHttp(request: HttpRequest): HttpRequestPlan {
  return {
    url: request.url,
    method: request.method,
    timeoutMs: parseDuration(request.timeout),
    ...(request.headers ? { headers: request.headers } : {}),
    ...(request.body !== undefined ? { body: request.body } : {}),
  };
}

export async function sampleHttp(
  request: HttpRequestPlan,
  okStatus: number[] | null,
  signal?: AbortSignal,
  ackId?: string,
): Promise<Sample> {
  const at = Date.now();
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  // One controller per request, unhooked from the caller's signal when done: a probe sampling for
  // hours must not pile listeners onto the signal it shares with every other request.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  const onCallerAbort = () => controller.abort();
  signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: resolveHeaders(request.headers),
      body: request.body,
      signal: controller.signal,
      redirect: 'manual',
    });
    const body = await response.arrayBuffer();
    const latencyMs = elapsed();
    const ok = okStatus
      ? okStatus.includes(response.status)
      : response.status >= 200 && response.status < 400;
    const acknowledged = ackId && response.status >= 200 && response.status < 300 ? idIn(body, ackId) : null;
    return {
      at,
      ok,
      latencyMs,
      status: response.status,
      ...(ok ? {} : { error: `status ${response.status}` }),
      ...(acknowledged ? { ackId: acknowledged } : {}),
    };
  } catch (error) {
    const message = timedOut
      ? `timeout after ${formatDuration(request.timeoutMs)}`
      : withoutSecretValues(describeFetchError(error), Object.values(request.headers ?? {}));
    return { at, ok: false, latencyMs: elapsed(), error: message };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** The id at `path` in a JSON answer, as text; null when the answer has none (then nothing is acknowledged). */
function idIn(body: ArrayBuffer, path: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return null;
  }
  for (const key of path.split('.'))
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  const id = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  // Ids are read back one by one and kept in the journal: an absurdly long one is no id.
  return id && id.length <= 200 ? id : null;
}

/**
 * Header values with their `${GAMEDAY_SECRET_*}` filled in, here on the worker, and checked before
 * fetch sees them: fetch's own refusal quotes the value, or a character's position and code.
 */
export function resolveHeaders(
  headers: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (!headers) return undefined;
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => {
      const filled = fillInSecrets(value, `header ${name}`);
      if (!isHeaderValue(filled))
        throw new Error(
          `header ${name}${filledIn(value)} is not a valid HTTP header value: ` +
            'it may hold only Latin-1 characters, and no line break or NUL',
        );
      return [name, filled];
    }),
  );
}

/** What the Fetch standard accepts as a header value: a byte string without CR, LF or NUL. */
function isHeaderValue(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: exactly those are refused
  return !/[^\u0000-\u00ff]|[\r\n\u0000]/.test(value);
}

/** A network error in words an SRE reads at a glance: 'connection refused', not 'fetch failed'. */
export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (error as { code?: string }).code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    UND_ERR_SOCKET: 'connection closed by the other side',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'DNS lookup failed',
    UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  };
  if (code && known[code]) return known[code];
  return cause?.message ?? (error as Error).message ?? String(error);
}

export const http = {
  spec: HttpProbeSpec,
  measures: 'latency',
  plan: (spec, _ctx, expect): HttpProbePlan => ({
    ...planHttp(spec),
    okStatus: expect?.status ?? null,
    ...(spec.ackId ? { ackId: spec.ackId } : {}),
  }),
  sample: (plan, signal) => sampleHttp(plan, plan.okStatus, signal, plan.ackId),
  timeoutMs: (plan) => plan.timeoutMs,
  describe: (plan) => `${plan.method} ${plan.url}`,
  redact: (plan) =>
    plan.headers
      ? { ...plan, headers: Object.fromEntries(Object.keys(plan.headers).map((k) => [k, '<redacted>'])) }
      : plan,
} satisfies ProbeKind<typeof HttpProbeSpec, HttpProbePlan>;
