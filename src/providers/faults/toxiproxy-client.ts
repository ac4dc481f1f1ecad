/**
 * gameday's own small Toxiproxy client: the few calls the provider needs, each with a timeout,
 * the server's error body kept in the failure, and names URL-encoded (README.md says why not
 * toxiproxy-node-client). Unreachable servers and 5xx answers are `unavailable` (retried); other
 * refusals are `refused` (final).
 */
import { refused, unavailable } from '../fault-provider';
import { describeFetchError } from '../probes/http';

const REQUEST_TIMEOUT_MS = 3_000;

export interface ProxyState {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: { name: string; toxicity?: number }[];
}

export interface Answer {
  status: number;
  ok: boolean;
  body: string;
}

/**
 * One call to the Toxiproxy HTTP API, body read in full so the connection is free again. Updates
 * are PATCH: POST is deprecated for them since Toxiproxy 2.6.0, which logs a warning for each.
 */
export async function call(url: string, method: string, path: string, body?: unknown): Promise<Answer> {
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
    throw unavailable(`toxiproxy at ${url} is unreachable (${describeFetchError(error)})`);
  }
  if (response.status >= 500) {
    throw unavailable(
      `toxiproxy at ${url} answered ${method} ${path} with ${response.status}: ${text.trim()}`,
    );
  }
  return { status: response.status, ok: response.ok, body: text };
}

export function refuse(answer: Answer, what: string): never {
  throw refused(`${what}: toxiproxy answered ${answer.status} ${answer.body.trim()}`);
}

export const proxyPath = (proxy: string) => `/proxies/${encodeURIComponent(proxy)}`;

export async function getProxy(url: string, proxy: string): Promise<ProxyState | null> {
  const response = await call(url, 'GET', proxyPath(proxy));
  if (response.status === 404) return null;
  if (!response.ok) refuse(response, `reading proxy ${proxy}`);
  return JSON.parse(response.body) as ProxyState;
}

export async function listToxics(url: string, proxy: string): Promise<{ name: string; type: string }[]> {
  const response = await call(url, 'GET', `${proxyPath(proxy)}/toxics`);
  if (response.status === 404) return [];
  if (!response.ok) refuse(response, `listing toxics of ${proxy}`);
  return JSON.parse(response.body) as { name: string; type: string }[];
}

/** Removes a toxic by name; returns whether it was already gone. */
export async function removeToxic(url: string, proxy: string, toxic: string): Promise<boolean> {
  const response = await call(url, 'DELETE', `${proxyPath(proxy)}/toxics/${encodeURIComponent(toxic)}`);
  if (response.status === 404) return true;
  if (!response.ok) refuse(response, `removing toxic ${toxic} from ${proxy}`);
  return false;
}
