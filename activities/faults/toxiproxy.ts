/**
 * The Toxiproxy fault provider. Inject and revert are idempotent: a toxic's name comes from the
 * run id and the fault name, an existing toxic of that name is ours, and removing one that is
 * already gone is success. `down` disables the proxy; its revert always re-enables it.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ProxyPlan } from '../../src/experiment/plan';
import type { ToxiproxyHandle } from '../../src/report/journal';
import { describeFetchError } from '../probes/http';

const REQUEST_TIMEOUT_MS = 3_000;

interface ProxyState {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: { name: string }[];
}

interface Answer {
  status: number;
  ok: boolean;
  body: string;
}

/**
 * One call to the Toxiproxy HTTP API (updates are PATCH: POST is deprecated for them since
 * Toxiproxy 2.6.0, which logs a warning for each one), body read in full so the connection is free again.
 * Unreachable servers and 5xx answers are retryable failures.
 */
async function call(url: string, method: string, path: string, body?: unknown): Promise<Answer> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(new URL(path, url), {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    text = await response.text();
  } catch (error) {
    throw ApplicationFailure.retryable(
      `toxiproxy at ${url} is unreachable (${describeFetchError(error)})`,
      'ToxiproxyUnreachable',
    );
  }
  if (response.status >= 500) {
    throw ApplicationFailure.retryable(
      `toxiproxy at ${url} answered ${method} ${path} with ${response.status}: ${text.trim()}`,
      'ToxiproxyServerError',
    );
  }
  return { status: response.status, ok: response.ok, body: text };
}

function refuse(answer: Answer, what: string): never {
  throw ApplicationFailure.nonRetryable(
    `${what}: toxiproxy answered ${answer.status} ${answer.body.trim()}`,
    'ToxiproxyRefused',
  );
}

export async function getProxy(url: string, proxy: string): Promise<ProxyState | null> {
  const response = await call(url, 'GET', `/proxies/${encodeURIComponent(proxy)}`);
  if (response.status === 404) return null;
  if (!response.ok) refuse(response, `reading proxy ${proxy}`);
  return JSON.parse(response.body) as ProxyState;
}

export async function listToxics(url: string, proxy: string): Promise<{ name: string; type: string }[]> {
  const response = await call(url, 'GET', `/proxies/${encodeURIComponent(proxy)}/toxics`);
  if (response.status === 404) return [];
  if (!response.ok) refuse(response, `listing toxics of ${proxy}`);
  return JSON.parse(response.body) as { name: string; type: string }[];
}

/**
 * Creates the declared proxies that do not exist yet and leaves existing ones alone. An existing
 * proxy that points somewhere else is refused rather than changed: it may be someone else's.
 */
export async function ensureProxies(url: string, proxies: readonly ProxyPlan[]): Promise<string[]> {
  const created: string[] = [];
  for (const proxy of proxies) {
    const existing = await getProxy(url, proxy.name);
    if (existing) {
      if (!sameAddress(existing.listen, proxy.listen) || !sameAddress(existing.upstream, proxy.upstream)) {
        throw ApplicationFailure.nonRetryable(
          `proxy ${proxy.name} already exists on toxiproxy at ${url} as ${existing.listen} -> ${existing.upstream}, ` +
            `but the experiment declares ${proxy.listen} -> ${proxy.upstream}`,
          'ProxyMismatch',
        );
      }
      continue;
    }
    const response = await call(url, 'POST', '/proxies', { ...proxy, enabled: true });
    if (response.status === 409) continue; // created meanwhile by a retried attempt
    if (!response.ok) refuse(response, `creating proxy ${proxy.name}`);
    created.push(proxy.name);
  }
  return created;
}

/** Every proxy a fault acts on must exist before anything is injected. */
export async function missingProxies(url: string, proxies: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const proxy of new Set(proxies)) if (!(await getProxy(url, proxy))) missing.push(proxy);
  return missing;
}

export async function injectToxiproxy(
  handle: ToxiproxyHandle,
  beforeChange: () => void = () => undefined,
): Promise<void> {
  const proxyPath = `/proxies/${encodeURIComponent(handle.proxy)}`;
  beforeChange();
  if (handle.action === 'down') {
    const response = await call(handle.url, 'PATCH', proxyPath, { enabled: false });
    if (!response.ok) refuse(response, `disabling proxy ${handle.proxy}`);
    return;
  }
  const { toxic } = handle;
  const response = await call(handle.url, 'POST', `${proxyPath}/toxics`, toxic);
  if (response.ok) return;
  if (response.status === 409) {
    // Ours from an earlier attempt of this inject: make sure it carries the planned attributes.
    beforeChange();
    const update = await call(
      handle.url,
      'PATCH',
      `${proxyPath}/toxics/${encodeURIComponent(toxic.name)}`,
      toxic,
    );
    if (!update.ok) refuse(update, `updating toxic ${toxic.name} on ${handle.proxy}`);
    return;
  }
  refuse(response, `adding toxic ${toxic.name} to ${handle.proxy}`);
}

/** Returns whether there was nothing left to revert. */
export async function revertToxiproxy(handle: ToxiproxyHandle): Promise<{ alreadyGone: boolean }> {
  const proxyPath = `/proxies/${encodeURIComponent(handle.proxy)}`;
  if (handle.action === 'down') {
    const proxy = await getProxy(handle.url, handle.proxy);
    if (!proxy) return { alreadyGone: true };
    if (proxy.enabled) return { alreadyGone: true };
    const response = await call(handle.url, 'PATCH', proxyPath, { enabled: true });
    if (!response.ok) refuse(response, `re-enabling proxy ${handle.proxy}`);
    return { alreadyGone: false };
  }
  const response = await call(
    handle.url,
    'DELETE',
    `${proxyPath}/toxics/${encodeURIComponent(handle.toxic.name)}`,
  );
  if (response.status === 404) return { alreadyGone: true };
  if (!response.ok) refuse(response, `removing toxic ${handle.toxic.name} from ${handle.proxy}`);
  return { alreadyGone: false };
}

function sameAddress(a: string, b: string): boolean {
  const normalize = (address: string) => address.replace(/^(localhost|\[::1\]|::1):/, '127.0.0.1:');
  return normalize(a) === normalize(b);
}
