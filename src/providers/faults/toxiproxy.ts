/**
 * The Toxiproxy fault provider. Inject and revert are idempotent: a toxic's name comes from the
 * run id and the fault name, an existing toxic of that name is ours, and removing one that is
 * already gone is success. `down` (toxiproxy-down.ts) disables the proxy, and its revert
 * re-enables only a proxy this run disabled.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Fraction, ProxyName } from '../../experiment/primitives';
import { uniqueNames } from '../../experiment/raw';
import { type FaultProvider, type RawIssue, refused } from '../fault-provider';
import { serverIdentities } from '../server-identity';
import { call, getProxy, proxyPath, refuse, removeToxic } from './toxiproxy-client';
import { disableProxy, enableProxy, refuseDisabledProxies } from './toxiproxy-down';

// ---------------------------------------------------------------------------------------------
// The experiment file: a toxic as Toxiproxy's README lists them, or the proxy down.

const Stream = z.enum(['upstream', 'downstream']).default('downstream');
const ToxicCommon = {
  proxy: ProxyName.describe('The Toxiproxy proxy to act on'),
  stream: Stream,
  toxicity: Fraction.default(1).describe('Probability that a connection is affected'),
};
const Count = z.number().int().min(0);

function toxic<T extends string, A extends z.ZodRawShape>(type: T, attributes: A) {
  return z.strictObject({ ...ToxicCommon, toxic: z.literal(type), attributes: z.strictObject(attributes) });
}

export const ToxicFault = z.discriminatedUnion('toxic', [
  toxic('latency', { latency: Count.describe('ms added'), jitter: Count.default(0).describe('ms, +/-') }),
  toxic('bandwidth', { rate: Count.describe('KB/s') }),
  toxic('slow_close', { delay: Count.describe('ms before close') }),
  toxic('timeout', { timeout: Count.describe('ms before close; 0 holds the data forever') }),
  toxic('reset_peer', { timeout: Count.default(0).describe('ms before reset') }),
  toxic('slicer', {
    average_size: Count.min(1).describe('bytes'),
    size_variation: Count.default(0).describe('bytes'),
    delay: Count.default(0).describe('microseconds between slices'),
  }),
  toxic('limit_data', { bytes: Count.describe('bytes before close') }),
]);

export const ProxyDown = z
  .strictObject({ proxy: ProxyName, down: z.literal(true) })
  .describe('Disable the proxy: new connections are refused and open ones closed');

export const ToxiproxyFault = z.union([ProxyDown, ToxicFault]);
export type ToxiproxyFault = z.infer<typeof ToxiproxyFault>;
export type ToxicFault = z.infer<typeof ToxicFault>;

// host:port, the host an IPv6 address in brackets as Toxiproxy's README writes "[::]:18080".
const HostPort = z.string().regex(/^([^\s:[\]]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, 'host:port, or [ipv6]:port');

export const ProxyDeclaration = z.strictObject({
  name: ProxyName,
  listen: HostPort,
  upstream: HostPort,
});
export type ProxyDeclaration = z.infer<typeof ProxyDeclaration>;

export const ToxiproxySettings = z.strictObject({
  url: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:8474')
    .describe('TOXIPROXY_URL overrides'),
  proxies: z
    .array(ProxyDeclaration)
    .default([])
    .describe('Created idempotently before the run, left in place'),
});

/** What the run makes of settings.toxiproxy: the server, and the proxies to ensure before anything. */
export interface ToxiproxySettingsPlan {
  url: string;
  proxies: ProxyPlan[];
}
export interface ProxyPlan {
  name: string;
  listen: string;
  upstream: string;
}

// ---------------------------------------------------------------------------------------------
// The journal: the handle names exactly the toxic (or the disabled proxy).

export const ToxicSpec = z.object({
  name: z.string(),
  type: z.string(),
  stream: z.enum(['upstream', 'downstream']),
  toxicity: z.number(),
  attributes: z.record(z.string(), z.number()),
});

export const ToxiproxyHandle = z.discriminatedUnion('action', [
  z.object({ action: z.literal('toxic'), url: z.string(), proxy: z.string(), toxic: ToxicSpec }),
  z.object({
    action: z.literal('down'),
    url: z.string(),
    proxy: z.string(),
    /**
     * The inert toxic the inject leaves on the proxy it disables, named like the run's toxics: how
     * a revert, even after a crash, knows that this run disabled the proxy. Absent in older runs.
     */
    marker: z.string().optional(),
    /** Whether the proxy was enabled when the inject found it (it refuses one already disabled). */
    enabledBefore: z.boolean().optional(),
  }),
]);
export type ToxiproxyHandle = z.infer<typeof ToxiproxyHandle>;

/** What the run will call the toxic it adds: unique to the run, readable on the Toxiproxy server. */
export function toxicName(runId: string, faultName: string): string {
  return `gameday.${runId}.${faultName}`;
}

const DEFAULT_URL = 'http://127.0.0.1:8474';
const toxiproxyUrl = (env: Record<string, string | undefined>, settings: { url?: string } | undefined) =>
  env.TOXIPROXY_URL || settings?.url || DEFAULT_URL;

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
        throw refused(
          `proxy ${proxy.name} already exists on toxiproxy at ${url} as ${existing.listen} -> ${existing.upstream}, ` +
            `but the experiment declares ${proxy.listen} -> ${proxy.upstream}`,
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

/**
 * The lock keys: the server behind the URL (by identity, however the URL is written) and the proxy.
 * Temporal caps a workflow id (the lock's) at 1,000 bytes; Toxiproxy's proxy names are unbounded.
 */
export function toxiproxyLockKeys(handle: ToxiproxyHandle, servers: string[] = [handle.url]): string[] {
  const name =
    Buffer.byteLength(handle.proxy) > 200
      ? `sha256:${createHash('sha256').update(handle.proxy).digest('hex')}`
      : handle.proxy;
  return servers.map((server) => `toxiproxy/${server}/${name}`);
}

function describeToxiproxy(t: ToxiproxyHandle): string {
  if (t.action === 'down') return `toxiproxy ${t.url} proxy ${t.proxy} disabled`;
  return `toxiproxy ${t.url} proxy ${t.proxy} toxic ${t.toxic.name} (${t.toxic.type} ${t.toxic.stream})`;
}

function proxyIssues(raw: Record<string, unknown>, path: (string | number)[]): RawIssue[] {
  const issues: RawIssue[] = [];
  uniqueNames(raw.proxies, [...path, 'proxies'], 'proxy', issues);
  return issues;
}

export const toxiproxy = {
  spec: ToxiproxyFault,
  handle: ToxiproxyHandle,
  settings: {
    spec: ToxiproxySettings,
    plan: (settings, used, ctx): ToxiproxySettingsPlan | null =>
      used || settings !== undefined
        ? { url: toxiproxyUrl(ctx.env, settings), proxies: settings?.proxies ?? [] }
        : null,
    issues: proxyIssues,
  },
  plan(spec, ctx) {
    const url = toxiproxyUrl(ctx.env, ctx.settings as { url?: string } | undefined);
    if ('down' in spec) {
      return { action: 'down' as const, url, proxy: spec.proxy, marker: toxicName(ctx.runId, ctx.fault) };
    }
    return {
      action: 'toxic' as const,
      url,
      proxy: spec.proxy,
      toxic: {
        name: toxicName(ctx.runId, ctx.fault),
        type: spec.toxic,
        stream: spec.stream,
        toxicity: spec.toxicity,
        attributes: spec.attributes as Record<string, number>,
      },
    };
  },
  /** Creates the declared proxies, then refuses a fault whose proxy is missing or already down. */
  async prepareRun(handles, settings) {
    const plan = settings as ToxiproxySettingsPlan | null;
    if (!plan) return { created: [] };
    const created = await ensureProxies(plan.url, plan.proxies);
    const missing = await missingProxies(
      plan.url,
      handles.map((h) => h.proxy),
    );
    if (missing.length > 0) {
      throw refused(
        `no proxy named ${missing.join(', ')} on toxiproxy at ${plan.url}; declare it under settings.toxiproxy.proxies or create it first`,
      );
    }
    await refuseDisabledProxies(handles.flatMap((h) => (h.action === 'down' ? [h] : [])));
    return { created };
  },
  resolve: async (handle) => ({
    handle,
    // The servers behind the URL, resolved here so the workflow only ever sees keys.
    lockKeys: toxiproxyLockKeys(handle, await serverIdentities(handle.url)),
  }),
  inject: (handle, ctx) => injectToxiproxy(handle, ctx.beforeChange),
  revert: (handle) => revertToxiproxy(handle),
  describe: describeToxiproxy,
  planLines: async (t, fault) => [
    t.action === 'down'
      ? `${fault}: disable proxy ${t.proxy}`
      : `${fault}: add toxic ${t.toxic.name} to proxy ${t.proxy}: ${t.toxic.type} ${t.toxic.stream} ` +
        `toxicity ${t.toxic.toxicity} ${JSON.stringify(t.toxic.attributes)}`,
  ],
} satisfies FaultProvider<typeof ToxiproxyFault, typeof ToxiproxyHandle, typeof ToxiproxySettings>;
