/**
 * Toxiproxy's marks: toxics named `gameday.<runId>.<fault>`, and proxies a run disabled, which
 * carry that run's inert down marker (src/providers/faults/toxiproxy-down.ts). A proxy disabled
 * without a marker is not gameday's and is never touched.
 */
import { revertToxiproxy } from '../providers/faults/toxiproxy';
import { call, refuse } from '../providers/faults/toxiproxy-client';
import { type MarkedFault, parseToxicName, type SweepSource } from './marks';

interface ProxyListing {
  name: string;
  enabled: boolean;
  toxics: { name: string; type: string; toxicity?: number; attributes?: Record<string, number> }[];
}

/** The marker's shape: latency 0 at toxicity 0 touches no connection. */
const isDownMarker = (toxic: ProxyListing['toxics'][number]) =>
  toxic.type === 'latency' && toxic.toxicity === 0 && !toxic.attributes?.latency && !toxic.attributes?.jitter;

export function toxiproxySource(url: string): SweepSource {
  return {
    name: `toxiproxy at ${url}`,
    async find() {
      const answer = await call(url, 'GET', '/proxies');
      if (!answer.ok) refuse(answer, 'listing proxies');
      const proxies = Object.values(JSON.parse(answer.body) as Record<string, ProxyListing>);
      return proxies.flatMap((proxy) =>
        proxy.toxics.flatMap((toxic): MarkedFault[] => {
          const mark = parseToxicName(toxic.name);
          if (!mark) return [];
          const base = {
            provider: 'toxiproxy',
            runId: mark.runId,
            fault: mark.fault,
            target: `${url} proxy ${proxy.name} toxic ${toxic.name}`,
          };
          if (isDownMarker(toxic))
            return [
              {
                ...base,
                what: proxy.enabled
                  ? `down marker ${toxic.name} on proxy ${proxy.name} (proxy enabled)`
                  : `proxy ${proxy.name} disabled (marker ${toxic.name})`,
                revert: async () => {
                  await revertToxiproxy({ action: 'down', url, proxy: proxy.name, marker: toxic.name });
                  return proxy.enabled
                    ? `removed marker ${toxic.name} from proxy ${proxy.name}`
                    : `re-enabled proxy ${proxy.name} and removed marker ${toxic.name}`;
                },
              },
            ];
          return [
            {
              ...base,
              what: `toxic ${toxic.name} on proxy ${proxy.name} (${toxic.type})`,
              revert: async () => {
                // Removing a toxic needs only its name; the rest of the spec is not read.
                const spec = {
                  name: toxic.name,
                  type: toxic.type,
                  stream: 'downstream' as const,
                  toxicity: 1,
                  attributes: {},
                };
                const { alreadyGone } = await revertToxiproxy({
                  action: 'toxic',
                  url,
                  proxy: proxy.name,
                  toxic: spec,
                });
                return `${alreadyGone ? 'already gone' : 'removed'}: toxic ${toxic.name} on proxy ${proxy.name}`;
              },
            },
          ];
        }),
      );
    },
  };
}
