/**
 * The continuity plan in an experiment file (README "Continuity plan"): the critical services, how
 * long each may be below its SLO (rto) and how much acknowledged data it may lose (rpo), the
 * steady-state probes that define its SLO, and optionally the write probe whose acknowledged ids
 * are read back after recovery. The run measures each service against it (src/report/continuity.ts).
 */
import { z } from 'zod';
import { parseDuration } from './duration';
import { HttpRequest } from './http-schema';
import { Duration, Name } from './primitives';
import { isObject, list, type Raw, type RawIssue, uniqueNames } from './raw';

/** Where the id of a write goes in the read-back URL. */
export const ID_PLACEHOLDER = '{id}';

export const ContinuityService = z.strictObject({
  name: Name.describe('The critical service'),
  rto: Duration.describe(
    'Longest tolerated time below its SLO, and longest tolerated recovery after rollback',
  ),
  rpo: Duration.describe(
    'Largest tolerated span of acknowledged writes lost; 0s means no acknowledged write may be lost',
  ),
  slo: z
    .array(Name)
    .min(1)
    .describe(
      'steadyState probes that define its SLO: a window in which any of them misses its tolerance is below SLO',
    ),
  writeProbe: Name.optional().describe(
    'An http steadyState probe with ackId: every id it got acknowledged is read back after recovery',
  ),
  readBack: z
    .strictObject({
      http: HttpRequest.describe(`The read of one write; ${ID_PLACEHOLDER} in the url is its id`),
      expect: z
        .strictObject({ status: z.array(z.number().int().min(100).max(599)).min(1) })
        .optional()
        .describe('Statuses that mean the write is there (default 200)'),
    })
    .optional(),
});

export const Continuity = z
  .strictObject({ services: z.array(ContinuityService).min(1).max(20) })
  .describe('The continuity plan: each critical service measured against its RTO and RPO');

export type Continuity = z.infer<typeof Continuity>;

export interface ReadBackPlan {
  url: string;
  method: string;
  timeoutMs: number;
  headers?: Record<string, string>;
  okStatus: number[];
}

export interface ContinuityServicePlan {
  name: string;
  rtoMs: number;
  rpoMs: number;
  slo: string[];
  writeProbe?: string;
  readBack?: ReadBackPlan;
}

export interface ContinuityPlan {
  services: ContinuityServicePlan[];
}

export function planContinuity(continuity: Continuity): ContinuityPlan {
  return {
    services: continuity.services.map((service) => ({
      name: service.name,
      rtoMs: parseDuration(service.rto),
      rpoMs: parseDuration(service.rpo),
      slo: service.slo,
      ...(service.writeProbe ? { writeProbe: service.writeProbe } : {}),
      ...(service.readBack
        ? {
            readBack: {
              url: service.readBack.http.url,
              method: service.readBack.http.method,
              timeoutMs: parseDuration(service.readBack.http.timeout),
              ...(service.readBack.http.headers ? { headers: service.readBack.http.headers } : {}),
              okStatus: service.readBack.expect?.status ?? [200],
            },
          }
        : {}),
    })),
  };
}

/** References the schema cannot see: probe names, a write probe that acknowledges ids, its read-back. */
export function continuityIssues(data: Raw): RawIssue[] {
  if (!isObject(data.continuity)) return [];
  const issues: RawIssue[] = [];
  const probes = new Map<string, Raw>();
  for (const probe of list(data.steadyState))
    if (isObject(probe) && typeof probe.name === 'string') probes.set(probe.name, probe);
  const known = () => [...probes.keys()].join(', ') || 'none';
  uniqueNames(data.continuity.services, ['continuity', 'services'], 'service', issues);
  list(data.continuity.services).forEach((service, s) => {
    if (!isObject(service)) return;
    const path = ['continuity', 'services', s];
    list(service.slo).forEach((name, i) => {
      if (typeof name === 'string' && !probes.has(name))
        issues.push({
          path: [...path, 'slo', i],
          message: `no steadyState probe is named "${name}" (known: ${known()})`,
        });
    });
    const write = service.writeProbe;
    if (typeof write === 'string') {
      const probe = probes.get(write);
      if (!probe)
        issues.push({
          path: [...path, 'writeProbe'],
          message: `no steadyState probe is named "${write}" (known: ${known()})`,
        });
      else if (!isObject(probe.http) || typeof probe.http.ackId !== 'string')
        issues.push({
          path: [...path, 'writeProbe'],
          message: `probe "${write}" must be an http probe with ackId (the JSON field of the id it is acknowledged with)`,
        });
      if (!isObject(service.readBack))
        issues.push({
          path: [...path, 'readBack'],
          message: 'a write probe needs a readBack to check its writes with',
        });
    }
    if (isObject(service.readBack)) {
      const http = isObject(service.readBack.http) ? service.readBack.http : {};
      if (typeof http.url === 'string' && !http.url.includes(ID_PLACEHOLDER))
        issues.push({
          path: [...path, 'readBack', 'http', 'url'],
          message: `the url must hold ${ID_PLACEHOLDER}, where the id goes`,
        });
      if (typeof write !== 'string')
        issues.push({
          path: [...path, 'readBack'],
          message: 'a readBack needs a writeProbe whose writes it reads',
        });
    }
  });
  return issues;
}
