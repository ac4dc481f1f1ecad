/**
 * The `down` fault: the proxy is disabled, and its revert re-enables it only if this run disabled
 * it. Before disabling, the inject leaves a marker on the proxy, an inert toxic named like the
 * run's toxics (`gameday.<runId>.<fault>`: latency 0, toxicity 0, so it never touches a
 * connection). The marker is on the server, not in a worker's memory: a revert after a crash at
 * any point, or after an inject that was refused, can tell whether the proxy is ours to re-enable,
 * and anyone looking at the Toxiproxy server sees which run took the proxy down. A proxy already
 * disabled by someone else is refused, not adopted: this run changes nothing on it.
 */
import { refused } from '../fault-provider';
import type { ToxiproxyHandle } from './toxiproxy';
import { call, getProxy, type ProxyState, proxyPath, refuse, removeToxic } from './toxiproxy-client';

type DownHandle = Extract<ToxiproxyHandle, { action: 'down' }>;

const markerToxic = (name: string) => ({
  name,
  type: 'latency',
  stream: 'downstream',
  toxicity: 0,
  attributes: { latency: 0, jitter: 0 },
});

export async function disableProxy(handle: DownHandle, beforeChange: () => void): Promise<DownHandle> {
  const { url, proxy: name, marker } = handle;
  if (!marker) {
    // Planned before markers existed: disable as those runs did.
    beforeChange();
    await setEnabled(url, name, false);
    return handle;
  }
  const proxy = await getProxy(url, name);
  if (!proxy) {
    throw refused(`no proxy named ${name} on toxiproxy at ${url}`);
  }
  const ours = hasToxic(proxy, marker);
  if (!proxy.enabled && !ours) throw alreadyDisabled(proxy, url);
  if (!ours) {
    // The marker first: a crash between the two calls leaves a proxy still enabled, never one
    // disabled without a sign of whose it is.
    beforeChange();
    const added = await call(url, 'POST', `${proxyPath(name)}/toxics`, markerToxic(marker));
    if (!added.ok && added.status !== 409) refuse(added, `marking proxy ${name} before disabling it`);
  }
  if (proxy.enabled) {
    beforeChange();
    await setEnabled(url, name, false);
  }
  return { ...handle, enabledBefore: true };
}

/** Re-enables the proxy only when it carries this run's marker; returns whether nothing was left to do. */
export async function enableProxy(handle: DownHandle): Promise<{ alreadyGone: boolean; note?: string }> {
  const { url, proxy: name, marker } = handle;
  const proxy = await getProxy(url, name);
  if (!proxy) return { alreadyGone: true };
  if (!marker) {
    if (proxy.enabled) return { alreadyGone: true };
    await setEnabled(url, name, true);
    return { alreadyGone: false };
  }
  if (!hasToxic(proxy, marker)) {
    return proxy.enabled
      ? { alreadyGone: true }
      : {
          alreadyGone: true,
          note: `proxy ${name} is disabled, but not by this run: left disabled (${disabledBy(proxy)})`,
        };
  }
  if (!proxy.enabled) await setEnabled(url, name, true);
  await removeToxic(url, name, marker);
  return { alreadyGone: proxy.enabled };
}

/**
 * The `down` faults' proxies must be enabled before the run starts: one already disabled is
 * someone else's fault (another run's, a person's), and re-enabling it later would end theirs.
 */
export async function refuseDisabledProxies(handles: readonly DownHandle[]): Promise<void> {
  for (const handle of handles) {
    const proxy = await getProxy(handle.url, handle.proxy);
    if (proxy && !proxy.enabled) throw alreadyDisabled(proxy, handle.url);
  }
}

function alreadyDisabled(proxy: ProxyState, url: string): Error {
  return refused(
    `proxy ${proxy.name} on toxiproxy at ${url} is already disabled (${disabledBy(proxy)}); ` +
      'this run changed nothing on it: wait until it is enabled again, or enable it yourself if nobody needs it down',
  );
}

/** Who took a proxy down, as far as the server can tell: another gameday run leaves its marker. */
function disabledBy(proxy: ProxyState): string {
  const theirs = proxy.toxics
    .filter((t) => t.toxicity === 0)
    .map((t) => /^gameday\.(.+)\.([^.]+)$/.exec(t.name))
    .find((m) => m !== null);
  return theirs ? `by gameday run ${theirs[1]}, fault ${theirs[2]}` : 'not by a gameday run';
}

const hasToxic = (proxy: ProxyState, name: string) => proxy.toxics.some((t) => t.name === name);

async function setEnabled(url: string, name: string, enabled: boolean): Promise<void> {
  const response = await call(url, 'PATCH', proxyPath(name), { enabled });
  if (!response.ok) refuse(response, `${enabled ? 're-enabling' : 'disabling'} proxy ${name}`);
}
