/**
 * The Toxiproxy fault provider. Inject and revert are idempotent: a toxic's name comes from the
 * run id and the fault name, an existing toxic of that name is ours, and removing one that is
 * already gone is success. `down` (toxiproxy-down.ts) disables the proxy, and its revert
 * re-enables only a proxy this run disabled.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { ProxyPlan } from '../../src/experiment/plan';
import type { ToxiproxyHandle } from '../../src/report/journal';
import { call, getProxy, proxyPath, refuse, removeToxic } from './toxiproxy-client';
import { disableProxy, enableProxy } from './toxiproxy-down';

export { getProxy } from './toxiproxy-client';

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

/** Applies the fault; returns its handle with what the inject found (a `down` proxy's state). */
export async function injectToxiproxy(
  handle: ToxiproxyHandle,
  beforeChange: () => void = () => undefined,
): Promise<ToxiproxyHandle> {
  if (handle.action === 'down') return disableProxy(handle, beforeChange);
  const { toxic } = handle;
  beforeChange();
  const response = await call(handle.url, 'POST', `${proxyPath(handle.proxy)}/toxics`, toxic);
  if (response.ok) return handle;
  if (response.status === 409) {
    // Ours from an earlier attempt of this inject: make sure it carries the planned attributes.
    beforeChange();
    const update = await call(
      handle.url,
      'PATCH',
      `${proxyPath(handle.proxy)}/toxics/${encodeURIComponent(toxic.name)}`,
      toxic,
    );
    if (!update.ok) refuse(update, `updating toxic ${toxic.name} on ${handle.proxy}`);
    return handle;
  }
  refuse(response, `adding toxic ${toxic.name} to ${handle.proxy}`);
}

/** Returns whether there was nothing left to revert, and what it left as it was, and why. */
export async function revertToxiproxy(
  handle: ToxiproxyHandle,
): Promise<{ alreadyGone: boolean; note?: string }> {
  if (handle.action === 'down') return enableProxy(handle);
  return { alreadyGone: await removeToxic(handle.url, handle.proxy, handle.toxic.name) };
}

function sameAddress(a: string, b: string): boolean {
  const normalize = (address: string) => address.replace(/^(localhost|\[::1\]|::1):/, '127.0.0.1:');
  return normalize(a) === normalize(b);
}
