/**
 * The `prometheus` probe: a PromQL query against a Prometheus HTTP API, each series' value judged
 * against `value: {min, max}`. An instant query judges the newest value of each series; with
 * `lookback`, a range query judges every point of the last `lookback`, each at its own timestamp.
 * What a query that returns nothing means is the file's choice (`onNoData`); by default it is a
 * failure once `noDataGrace` has passed since the probe began, because an SLO query that returns
 * nothing is not a healthy one, but a rate() needs two scrapes before it has a value.
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from '../../experiment/duration';
import { Duration, HttpUrl } from '../../experiment/primitives';
import { SECRET_PREFIX } from '../../experiment/worker-secrets';
import type { ProbeKind, Sample } from '../probe-kind';
import { type PrometheusServerPlan, prometheusGet } from './prometheus-api';

const SecretReference = z
  .string()
  .regex(
    /^\$\{GAMEDAY_SECRET_[A-Za-z0-9_]+\}$/,
    `a \${${SECRET_PREFIX}NAME} reference, read from the worker environment: a credential written in the file would reach the workflow history`,
  );

export const PrometheusProbe = z
  .strictObject({
    url: HttpUrl.describe('The Prometheus server, e.g. http://127.0.0.1:9090 (the API is under /api/v1)'),
    query: z.string().min(1).describe('A PromQL expression'),
    value: z
      .strictObject({ min: z.number().optional(), max: z.number().optional() })
      .refine((v) => v.min !== undefined || v.max !== undefined, 'name min, max or both')
      .refine((v) => v.min === undefined || v.max === undefined || v.min <= v.max, 'min is above max')
      .describe('Every series must be within this for a sample to succeed'),
    lookback: Duration.optional().describe(
      'Query a range over the last lookback instead of an instant: every point is judged',
    ),
    step: Duration.default('1s').describe('Resolution of a lookback range query'),
    onNoData: z
      .enum(['fail', 'pass', 'skip'])
      .default('fail')
      .describe('A query that returns no series (or only NaN): a failure, a success, or not a sample at all'),
    noDataGrace: Duration.default('10s').describe(
      'How long after the probe begins no data is skipped rather than failed (onNoData: fail)',
    ),
    timeout: Duration.default('5s').describe('Per-query timeout, sent to Prometheus too'),
    auth: z
      .union([
        z.strictObject({ bearer: SecretReference }),
        z.strictObject({ basic: z.strictObject({ username: z.string().min(1), password: SecretReference }) }),
      ])
      .optional()
      .describe('Bearer token or basic auth, from the worker environment'),
    tls: z
      .strictObject({
        caFile: z
          .string()
          .min(1)
          .optional()
          .describe('PEM file of the CA that signed the server certificate'),
        serverName: z.string().min(1).optional().describe('Server name to verify the certificate against'),
        insecureSkipVerify: z.boolean().default(false).describe('Do not verify the server certificate'),
      })
      .optional(),
  })
  .describe('A PromQL query; each series must be within value');

export interface PrometheusProbePlan extends PrometheusServerPlan {
  query: string;
  /** The value range each series must be within: `range`, as every value-measuring kind names it. */
  range: { min?: number; max?: number };
  lookbackMs?: number;
  stepMs: number;
  onNoData: 'fail' | 'pass' | 'skip';
  noDataGraceMs: number;
}

type Labels = Record<string, string>;
type Point = [number, string];
type QueryData =
  | { resultType: 'vector'; result: { metric: Labels; value: Point }[] }
  | { resultType: 'matrix'; result: { metric: Labels; values: Point[] }[] }
  | { resultType: 'scalar'; result: Point }
  | { resultType: 'string'; result: Point };

/** One value of one series at one time. */
interface Judged {
  series: string;
  at: number;
  value: number;
}

/** When each sampler's first sample started: the grace period runs from there. */
const began = new WeakMap<PrometheusProbePlan, number>();

export async function samplePrometheus(plan: PrometheusProbePlan, signal?: AbortSignal): Promise<Sample> {
  const at = Date.now();
  if (!began.has(plan)) began.set(plan, at);
  const started = performance.now();
  const latency = () => performance.now() - started;
  const now = at / 1_000;
  const answer = await prometheusGet<QueryData>(
    plan,
    plan.lookbackMs === undefined ? 'api/v1/query' : 'api/v1/query_range',
    {
      query: plan.query,
      timeout: `${Math.max(1, Math.floor(plan.timeoutMs / 1_000))}s`,
      ...(plan.lookbackMs === undefined
        ? { time: String(now) }
        : {
            start: String(now - plan.lookbackMs / 1_000),
            end: String(now),
            step: `${plan.stepMs / 1_000}s`,
          }),
    },
    signal,
  );
  if (!answer.ok) return { at, ok: false, latencyMs: latency(), error: answer.error };
  const points = pointsOf(answer.data).filter((point) => !Number.isNaN(point.value));
  if (points.length === 0) return noData(plan, at, latency());
  const outside = points.find((point) => !within(point.value, plan.range));
  const decisive = outside ?? mostExtreme(points, plan.range);
  return {
    at,
    ok: !outside,
    latencyMs: latency(),
    value: decisive.value,
    ...(outside ? { error: outsideMessage(outside, plan) } : {}),
  };
}

function noData(plan: PrometheusProbePlan, at: number, latencyMs: number): Sample {
  const sinceStart = at - (began.get(plan) ?? at);
  if (plan.onNoData === 'pass') return { at, ok: true, latencyMs };
  if (plan.onNoData === 'skip' || sinceStart < plan.noDataGraceMs)
    return { at, ok: true, latencyMs, skip: true };
  return {
    at,
    ok: false,
    latencyMs,
    error: `no data: the query returned no series for ${formatDuration(sinceStart)} (grace ${formatDuration(plan.noDataGraceMs)}, onNoData: fail)`,
  };
}

function pointsOf(data: QueryData): Judged[] {
  const number = (text: string) => Number(text);
  switch (data.resultType) {
    case 'vector':
      return data.result.map((s) => ({
        series: seriesName(s.metric),
        at: s.value[0],
        value: number(s.value[1]),
      }));
    case 'matrix':
      return data.result.flatMap((s) =>
        s.values.map(([t, v]) => ({ series: seriesName(s.metric), at: t, value: number(v) })),
      );
    case 'scalar':
      return [{ series: 'scalar', at: data.result[0], value: number(data.result[1]) }];
    default:
      return [];
  }
}

const within = (value: number, range: PrometheusProbePlan['range']) =>
  (range.min === undefined || value >= range.min) && (range.max === undefined || value <= range.max);

/** The point closest to a bound: the one the chart shows for a sample that held. */
function mostExtreme(points: Judged[], range: PrometheusProbePlan['range']): Judged {
  const pick =
    range.max !== undefined
      ? (a: Judged, b: Judged) => (b.value > a.value ? b : a)
      : (a: Judged, b: Judged) => (b.value < a.value ? b : a);
  return points.reduce(pick);
}

function outsideMessage(point: Judged, plan: PrometheusProbePlan): string {
  const bound =
    plan.range.max !== undefined && point.value > plan.range.max
      ? `above max ${plan.range.max}`
      : `below min ${plan.range.min}`;
  return `${point.value} ${bound} for ${point.series} at ${new Date(point.at * 1_000).toISOString()}`;
}

function seriesName(metric: Labels): string {
  const { __name__: name = '', ...labels } = metric;
  const inner = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',');
  return `${name}{${inner}}`;
}

/**
 * Whether the server parses the query: `/api/v1/parse_query` where the server has it (Prometheus
 * 2.52 and later), else an instant query at the Unix epoch, which parses the expression and finds
 * no data to read. The refusal, or undefined; a server that cannot be reached says so.
 */
export async function queryRefusal(
  plan: PrometheusProbePlan,
): Promise<{ refused?: string; unreachable?: string }> {
  const parsed = await prometheusGet<unknown>(plan, 'api/v1/parse_query', { query: plan.query });
  if (parsed.ok) return {};
  const answer =
    parsed.httpStatus === 404 || parsed.httpStatus === 405
      ? await prometheusGet<unknown>(plan, 'api/v1/query', { query: plan.query, time: '0' })
      : parsed;
  if (answer.ok) return {};
  return answer.httpStatus === 400 ? { refused: answer.error } : { unreachable: answer.error };
}

export const prometheus = {
  spec: PrometheusProbe,
  measures: 'value',
  plan: (spec): PrometheusProbePlan => ({
    url: spec.url,
    query: spec.query,
    range: Object.fromEntries(Object.entries(spec.value).filter(([, v]) => v !== undefined)),
    ...(spec.lookback ? { lookbackMs: parseDuration(spec.lookback) } : {}),
    stepMs: parseDuration(spec.step),
    onNoData: spec.onNoData,
    noDataGraceMs: parseDuration(spec.noDataGrace),
    timeoutMs: parseDuration(spec.timeout),
    ...(spec.auth ? { auth: spec.auth } : {}),
    ...(spec.tls ? { tls: spec.tls } : {}),
  }),
  sample: samplePrometheus,
  timeoutMs: (plan) => plan.timeoutMs,
  describe: (plan) => `promql ${plan.query} at ${plan.url}`,
  check: async (plan) => {
    const { refused, unreachable } = await queryRefusal(plan);
    if (refused) return { refused: `the query does not parse: ${refused}`, field: 'query' };
    if (unreachable)
      return { unreachable: `cannot ask ${plan.url} whether the query parses: ${unreachable}` };
    return {};
  },
} satisfies ProbeKind<typeof PrometheusProbe, PrometheusProbePlan>;
