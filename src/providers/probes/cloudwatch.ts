/**
 * The `cloudwatch` probe, in one of two forms:
 *
 * - an alarm's state (`alarmName` or `alarmArn`): ALARM is a failure, as it stops a FIS
 *   experiment; INSUFFICIENT_DATA holds by default, as FIS lets an experiment go on, unless
 *   `insufficientData: fail`. Charted as 0 (OK), 0.5 (INSUFFICIENT_DATA) and 1 (ALARM).
 * - a metric query: GetMetricData with the file's metric stats and a metric math `expression`
 *   over them; the newest value of the last `lookback` must be within `value`.
 *
 * Either reacts no faster than CloudWatch does: an alarm changes state once per period (10s for a
 * high-resolution alarm, 60s for a standard one), and a metric's datapoint is its period's.
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from '../../experiment/duration';
import { PlanRefused } from '../../experiment/plan-refused';
import { Duration } from '../../experiment/primitives';
import { cloudwatch as cloudwatchApi } from '../aws';
import type { AwsLocationPlan } from '../aws-location';
import type { ProbeKind, Sample } from '../probe-kind';
import { describeFetchError } from './http';

const ALARM_ARN = /^arn:aws[a-z-]*:cloudwatch:([a-z0-9-]+):(\d{12}):alarm:(.+)$/;

const MetricStat = z.strictObject({
  id: z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'an id: a lowercase letter, then letters, digits or _'),
  namespace: z.string().min(1),
  metricName: z.string().min(1),
  dimensions: z.record(z.string(), z.string()).optional(),
  stat: z.string().min(1).default('Average').describe('Average, Sum, Maximum, p99, ...'),
  period: z.number().int().min(1).default(60).describe('Seconds: 1, 5, 10, 30 or a multiple of 60'),
});

export const CloudWatchProbe = z
  .strictObject({
    alarmName: z.string().min(1).optional().describe('An alarm whose state is judged: ALARM fails'),
    alarmArn: z
      .string()
      .regex(ALARM_ARN, 'an alarm ARN, arn:aws:cloudwatch:<region>:<account>:alarm:<name>')
      .optional(),
    insufficientData: z
      .enum(['pass', 'fail'])
      .default('pass')
      .describe('What an alarm in INSUFFICIENT_DATA means (default pass, as for a FIS stop condition)'),
    metrics: z.array(MetricStat).min(1).max(50).optional().describe('The metric stats the expression reads'),
    expression: z
      .string()
      .min(1)
      .optional()
      .describe('Metric math over the metrics, e.g. "100 * errors / requests"'),
    lookback: Duration.default('5m').describe('How far back GetMetricData reads; the newest value is judged'),
    value: z
      .strictObject({ min: z.number().optional(), max: z.number().optional() })
      .optional()
      .describe("The expression's newest value must be within this"),
    onNoData: z
      .enum(['fail', 'pass', 'skip'])
      .default('fail')
      .describe('An expression with no value in lookback'),
    timeout: Duration.default('5s'),
  })
  .refine(
    (s) => [s.alarmName, s.alarmArn, s.expression].filter((v) => v !== undefined).length === 1,
    'name exactly one of alarmName, alarmArn or expression',
  )
  .refine((s) => s.expression === undefined || (s.metrics !== undefined && s.value !== undefined), {
    message: 'an expression needs the metrics it reads and a value range',
  })
  .describe('A CloudWatch alarm state, or a metric math expression against a value range');

export interface CloudWatchProbePlan extends AwsLocationPlan {
  alarm?: { name: string; arn?: string; insufficientData: 'pass' | 'fail' };
  query?: {
    metrics: z.infer<typeof MetricStat>[];
    expression: string;
    lookbackMs: number;
    onNoData: 'fail' | 'pass' | 'skip';
  };
  range: { min?: number; max?: number };
  timeoutMs: number;
}

const STATE_VALUE: Record<string, number> = { OK: 0, INSUFFICIENT_DATA: 0.5, ALARM: 1 };

export async function sampleCloudWatch(plan: CloudWatchProbePlan, signal?: AbortSignal): Promise<Sample> {
  const at = Date.now();
  const started = performance.now();
  const latency = () => performance.now() - started;
  const timeout = AbortSignal.timeout(plan.timeoutMs);
  const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    if (plan.alarm) {
      const state = await alarmState(plan, plan.alarm, abortSignal);
      if (!state) return { at, ok: false, latencyMs: latency(), error: `no alarm named ${plan.alarm.name}` };
      const value = STATE_VALUE[state.value] ?? 1;
      const ok =
        state.value === 'OK' ||
        (state.value === 'INSUFFICIENT_DATA' && plan.alarm.insufficientData === 'pass');
      return {
        at,
        ok,
        latencyMs: latency(),
        value,
        ...(ok ? {} : { error: `alarm ${plan.alarm.name} is in ${state.value}: ${state.reason}` }),
      };
    }
    const query = plan.query as NonNullable<CloudWatchProbePlan['query']>;
    const newest = await newestValue(plan, query, at, abortSignal);
    if (newest === undefined) {
      if (query.onNoData === 'fail')
        return {
          at,
          ok: false,
          latencyMs: latency(),
          error: `no data: ${query.expression} has no value in the last ${formatDuration(query.lookbackMs)}`,
        };
      return { at, ok: true, latencyMs: latency(), ...(query.onNoData === 'skip' ? { skip: true } : {}) };
    }
    const { min, max } = plan.range;
    const error =
      max !== undefined && newest.value > max
        ? `${newest.value} above max ${max}`
        : min !== undefined && newest.value < min
          ? `${newest.value} below min ${min}`
          : undefined;
    return {
      at,
      ok: !error,
      latencyMs: latency(),
      value: newest.value,
      ...(error ? { error: `${error} (${query.expression} at ${newest.at.toISOString()})` } : {}),
    };
  } catch (error) {
    const answered =
      (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined;
    const message = timeout.aborted
      ? `timeout after ${formatDuration(plan.timeoutMs)}`
      : answered
        ? `${(error as Error).name}: ${(error as Error).message}`
        : describeFetchError(error);
    return { at, ok: false, latencyMs: latency(), error: message };
  }
}

async function alarmState(
  location: AwsLocationPlan,
  alarm: NonNullable<CloudWatchProbePlan['alarm']>,
  abortSignal?: AbortSignal,
): Promise<{ value: string; reason: string } | undefined> {
  const { sdk, client } = await cloudwatchApi(location);
  const answer = await client.send(
    new sdk.DescribeAlarmsCommand({
      AlarmNames: [alarm.name],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    }),
    { abortSignal },
  );
  const found = [...(answer.MetricAlarms ?? []), ...(answer.CompositeAlarms ?? [])].find(
    (a) => a.AlarmName === alarm.name && (!alarm.arn || a.AlarmArn === alarm.arn),
  );
  return found
    ? { value: found.StateValue ?? 'INSUFFICIENT_DATA', reason: found.StateReason ?? '' }
    : undefined;
}

async function newestValue(
  location: AwsLocationPlan,
  query: NonNullable<CloudWatchProbePlan['query']>,
  now: number,
  abortSignal?: AbortSignal,
): Promise<{ value: number; at: Date } | undefined> {
  const { sdk, client } = await cloudwatchApi(location);
  const answer = await client.send(
    new sdk.GetMetricDataCommand({
      StartTime: new Date(now - query.lookbackMs),
      EndTime: new Date(now + 1_000),
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [
        ...query.metrics.map((m) => ({
          Id: m.id,
          ReturnData: false,
          MetricStat: {
            Metric: {
              Namespace: m.namespace,
              MetricName: m.metricName,
              Dimensions: Object.entries(m.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value })),
            },
            Stat: m.stat,
            Period: m.period,
          },
        })),
        { Id: 'gameday', Expression: query.expression, ReturnData: true },
      ],
    }),
    { abortSignal },
  );
  const result = answer.MetricDataResults?.find((r) => r.Id === 'gameday');
  const points = (result?.Values ?? []).map((value, i) => ({
    value,
    at: result?.Timestamps?.[i] ?? new Date(now),
  }));
  return points.sort((a, b) => b.at.getTime() - a.at.getTime())[0];
}

export const cloudwatch = {
  spec: CloudWatchProbe,
  usesAws: true,
  measures: 'value',
  plan: (spec, ctx): CloudWatchProbePlan => {
    const arn = spec.alarmArn ? ALARM_ARN.exec(spec.alarmArn) : null;
    const location = ctx.aws.location('cloudwatch');
    if (arn && arn[1] !== location.region)
      throw new PlanRefused(
        `alarm ${spec.alarmArn} is in ${arn[1]}, not in the run's region ${location.region}`,
      );
    const base = { ...location, timeoutMs: parseDuration(spec.timeout) };
    if (spec.alarmName || arn) {
      const name = spec.alarmName ?? (arn?.[3] as string);
      const range = { max: spec.insufficientData === 'pass' ? 0.5 : 0 };
      return {
        ...base,
        alarm: {
          name,
          ...(spec.alarmArn ? { arn: spec.alarmArn } : {}),
          insufficientData: spec.insufficientData,
        },
        range,
      };
    }
    return {
      ...base,
      query: {
        metrics: spec.metrics ?? [],
        expression: spec.expression as string,
        lookbackMs: parseDuration(spec.lookback),
        onNoData: spec.onNoData,
      },
      range: Object.fromEntries(Object.entries(spec.value ?? {}).filter(([, v]) => v !== undefined)),
    };
  },
  sample: sampleCloudWatch,
  timeoutMs: (plan) => plan.timeoutMs,
  describe: (plan) =>
    plan.alarm
      ? `cloudwatch alarm ${plan.alarm.name} (${plan.region})`
      : `cloudwatch ${plan.query?.expression} (${plan.region})`,
  check: async (plan) => {
    if (!plan.alarm) return {};
    try {
      const state = await alarmState(plan, plan.alarm, AbortSignal.timeout(plan.timeoutMs));
      return state
        ? {}
        : {
            refused: `no CloudWatch alarm named ${plan.alarm.name} in ${plan.region}`,
            field: plan.alarm.arn ? 'alarmArn' : 'alarmName',
          };
    } catch (error) {
      return {
        unreachable: `cannot read alarm ${plan.alarm.name}: ${(error as Error).name}: ${(error as Error).message}`,
      };
    }
  },
} satisfies ProbeKind<typeof CloudWatchProbe, CloudWatchProbePlan>;
