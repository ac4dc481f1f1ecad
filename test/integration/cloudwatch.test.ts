/**
 * The cloudwatch probe against moto's CloudWatch: an alarm set to ALARM aborts the run whose
 * guardrail watches it and the fault is reverted; INSUFFICIENT_DATA holds unless the file says
 * otherwise; a metric math expression over PutMetricData's datapoints is judged against `value`.
 */
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { awsLocator } from '../../src/providers/aws-location';
import { cloudwatch } from '../../src/providers/probes/cloudwatch';
import { awsSettings, MOTO_ACCOUNT, motoUrl, REGION } from '../aws-helpers';
import {
  experimentFor,
  finished,
  proxyState,
  startExperiment,
  startTarget,
  uniqueName,
  useWorker,
  waitFor,
} from '../helpers';

const cw = () => new CloudWatchClient({ region: REGION, endpoint: motoUrl() });

const suite = useWorker('cloudwatch-tests');
const { taskQueue } = suite;

async function putAlarm(name: string, state?: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA') {
  await cw().send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: 'Orders',
      MetricName: '5xx',
      Statistic: 'Sum',
      Period: 10,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  if (state) await setState(name, state);
}

const setState = (name: string, state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA') =>
  cw().send(
    new SetAlarmStateCommand({
      AlarmName: name,
      StateValue: state,
      StateReason: `set to ${state} by the test`,
    }),
  );

const planOf = (spec: Parameters<typeof cloudwatch.spec.parse>[0]) =>
  cloudwatch.plan(cloudwatch.spec.parse(spec), {
    aws: awsLocator({ region: REGION, endpoint: motoUrl() }, [REGION], {}),
  });

describe('a cloudwatch alarm guardrail', () => {
  it('aborts the run and reverts the fault when the alarm goes to ALARM', async () => {
    const alarm = uniqueName('orders-5xx');
    await putAlarm(alarm, 'OK');
    const target = await startTarget();
    const experiment = experimentFor(target, {
      target: { environment: 'local', accounts: [MOTO_ACCOUNT], regions: [REGION] },
      settings: { toxiproxy: experimentFor(target).settings?.toxiproxy, aws: awsSettings() },
      guardrails: [
        {
          name: 'orders-alarm',
          probe: { cloudwatch: { alarmName: alarm } },
          every: '250ms',
          abortWhen: { consecutiveFailures: 1 },
        },
      ],
      phases: [
        {
          name: 'slow',
          duration: '2m',
          faults: [
            {
              name: 'svc-latency',
              toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 50 } },
            },
          ],
        },
      ],
    });
    const { handle, plan } = await startExperiment(suite.client, experiment, taskQueue);
    // The alarm fires while the fault is in place.
    await waitFor(
      async () => (await proxyState(target.proxy)).toxics.includes(`gameday.${plan.runId}.svc-latency`),
      {
        what: 'the toxic to be injected',
      },
    );
    await setState(alarm, 'ALARM');
    const result = await finished(handle);
    const state = await proxyState(target.proxy);

    expect(result.verdict).toBe('aborted');
    expect(result.reason).toMatch(/guardrail orders-alarm breached: consecutiveFailures/);
    expect(state.toxics).toEqual([]);
    expect(result.journal.faults[0]?.status).toBe('reverted');
    const phase = result.journal.phases[0];
    expect(result.journal.faults[0]?.revertedAt).toBeLessThan((phase?.startedAt ?? 0) + 60_000);
    expect(phase?.watch?.guardrails[0]?.topErrors[0]?.message).toBe(
      `alarm ${alarm} is in ALARM: set to ALARM by the test`,
    );
  });
});

describe('a cloudwatch probe', () => {
  it('holds in OK, fails in ALARM, and holds in INSUFFICIENT_DATA unless told to fail', async () => {
    const alarm = uniqueName('state');
    await putAlarm(alarm, 'OK');
    const byName = planOf({ alarmName: alarm });
    const byArn = planOf({ alarmArn: `arn:aws:cloudwatch:${REGION}:${MOTO_ACCOUNT}:alarm:${alarm}` });
    const strict = planOf({ alarmName: alarm, insufficientData: 'fail' });
    expect(await cloudwatch.sample(byName)).toMatchObject({ ok: true, value: 0 });
    await setState(alarm, 'INSUFFICIENT_DATA');
    expect(await cloudwatch.sample(byName)).toMatchObject({ ok: true, value: 0.5 });
    expect(await cloudwatch.sample(strict)).toMatchObject({
      ok: false,
      error: `alarm ${alarm} is in INSUFFICIENT_DATA: set to INSUFFICIENT_DATA by the test`,
    });
    await setState(alarm, 'ALARM');
    expect(await cloudwatch.sample(byArn)).toMatchObject({ ok: false, value: 1 });
    expect(await cloudwatch.check?.(byName)).toEqual({});
    expect(await cloudwatch.check?.(planOf({ alarmName: uniqueName('missing') }))).toMatchObject({
      refused: expect.stringMatching(/^no CloudWatch alarm named missing-\w+ in us-east-1$/),
      field: 'alarmName',
    });
  });

  it('judges the newest value of a metric math expression over PutMetricData datapoints', async () => {
    const service = uniqueName('orders');
    const metric = (value: number, secondsAgo: number) => ({
      MetricName: 'Errors',
      Dimensions: [{ Name: 'Service', Value: service }],
      Timestamp: new Date(Date.now() - secondsAgo * 1_000),
      Value: value,
      Unit: 'Count' as const,
    });
    await cw().send(
      new PutMetricDataCommand({ Namespace: 'Gameday/Test', MetricData: [metric(2, 150), metric(40, 20)] }),
    );
    const spec = {
      metrics: [
        {
          id: 'errors',
          namespace: 'Gameday/Test',
          metricName: 'Errors',
          dimensions: { Service: service },
          stat: 'Sum',
          period: 60,
        },
      ],
      // moto evaluates an expression that names one query; AWS evaluates any metric math.
      expression: 'errors',
      lookback: '5m',
    };
    const sample = await cloudwatch.sample(planOf({ ...spec, value: { max: 10 } }));
    expect(sample).toMatchObject({ ok: false, value: 40 });
    expect(sample.error).toMatch(/^40 above max 10 \(errors at \d{4}-/);
    expect(await cloudwatch.sample(planOf({ ...spec, value: { max: 50 } }))).toMatchObject({
      ok: true,
      value: 40,
    });
    const none = await cloudwatch.sample(
      planOf({
        ...spec,
        metrics: [{ ...spec.metrics[0], dimensions: { Service: 'nobody' } }],
        value: { max: 1 },
      } as never),
    );
    expect(none).toMatchObject({ ok: false, error: 'no data: errors has no value in the last 5m' });
  });
});
