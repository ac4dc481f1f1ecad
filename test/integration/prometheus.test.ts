/**
 * The prometheus probe against the suite's real Prometheus, scraping a real service every second:
 * a PromQL guardrail on the service's error ratio aborts the run that broke it and reverts the
 * fault; a query with no data is a failure once its grace period is over; Prometheus's own error
 * is the failure's message.
 */
import { describe, expect, it } from 'vitest';
import { prometheus, samplePrometheus } from '../../src/providers/probes/prometheus';
import {
  experimentFor,
  finished,
  proxyState,
  startExperiment,
  uniqueName,
  useWorker,
  waitFor,
} from '../helpers';
import { prometheusUrl, queryValue, startMeteredService } from '../prometheus-helpers';

const suite = useWorker('prometheus-tests');
const { taskQueue } = suite;

const planOf = (spec: Parameters<typeof prometheus.spec.parse>[0]) =>
  prometheus.plan(prometheus.spec.parse(spec));

describe('a prometheus guardrail', () => {
  it("aborts the run and reverts the fault when the target's error ratio crosses the threshold", async () => {
    const service = await startMeteredService('slo');
    // Scraped, and healthy: the ratio is 0 before anything is injected.
    expect(await queryValue(service.errorRatio)).toBe(0);
    const experiment = experimentFor(service.dependency, {
      steadyState: [
        {
          name: 'availability',
          prometheus: { url: prometheusUrl(), query: service.errorRatio, value: { max: 0.1 } },
          sample: { every: '250ms', count: 4 },
          expect: { errorRate: 0 },
        },
      ],
      guardrails: [
        {
          name: 'error-budget',
          probe: 'availability',
          every: '500ms',
          abortWhen: { consecutiveFailures: 2 },
        },
      ],
      phases: [
        {
          name: 'dependency-down',
          duration: '2m',
          faults: [{ name: 'dependency-down', toxiproxy: { proxy: service.dependency.proxy, down: true } }],
        },
      ],
      recovery: { within: '30s' },
    });
    const { handle } = await startExperiment(suite.client, experiment, taskQueue);
    const result = await finished(handle);
    const state = await proxyState(service.dependency.proxy);
    await service.stop();

    expect(result.verdict).toBe('aborted');
    expect(result.reason).toMatch(/guardrail error-budget breached: consecutiveFailures/);
    expect(state.enabled).toBe(true);
    const phase = result.journal.phases[0];
    const fault = result.journal.faults[0];
    expect(fault?.status).toBe('reverted');
    // Long before the phase's 2 minutes: the metric, not the phase's end, stopped it.
    expect(fault?.revertedAt).toBeLessThan((phase?.startedAt ?? 0) + 60_000);
    expect(fault?.revertedAt).toBeGreaterThanOrEqual(phase?.watch?.breach?.decidedAt ?? Infinity);
    const guardrail = phase?.watch?.guardrails[0];
    expect(guardrail?.topErrors[0]?.message).toMatch(/above max 0\.1 for \{\} at \d{4}-/);
    // The values the report charts: the ratio crossed 0.1, against the probe's range.
    expect(guardrail?.range).toEqual({ max: 0.1 });
    expect(Math.max(...(guardrail?.buckets ?? []).map((b) => b.valueMax ?? 0))).toBeGreaterThan(0.1);
  });
});

describe('a prometheus probe', () => {
  it('skips no data during its grace period and fails it after', async () => {
    const plan = planOf({
      url: prometheusUrl(),
      query: `gameday_lab_http_requests_total{service="${uniqueName('nobody')}"}`,
      value: { max: 1 },
      noDataGrace: '1s',
    });
    const first = await samplePrometheus(plan);
    expect(first).toMatchObject({ ok: true, skip: true });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const later = await samplePrometheus(plan);
    expect(later.ok).toBe(false);
    expect(later.skip).toBeUndefined();
    expect(later.error).toMatch(
      /^no data: the query returned no series for 1\.\ds \(grace 1s, onNoData: fail\)$/,
    );
  });

  it('reads no data as a success with onNoData: pass, and as no sample at all with skip', async () => {
    const query = `up{job="${uniqueName('nobody')}"}`;
    const passing = planOf({
      url: prometheusUrl(),
      query,
      value: { max: 1 },
      onNoData: 'pass',
      noDataGrace: '0s',
    });
    const passed = await samplePrometheus(passing);
    expect(passed).toMatchObject({ ok: true });
    expect(passed.skip).toBeUndefined();
    const skipping = planOf({
      url: prometheusUrl(),
      query,
      value: { max: 1 },
      onNoData: 'skip',
      noDataGrace: '0s',
    });
    expect(await samplePrometheus(skipping)).toMatchObject({ ok: true, skip: true });
  });

  it("fails a sample with Prometheus's own message when the query does not parse", async () => {
    const broken = await samplePrometheus(
      planOf({ url: prometheusUrl(), query: 'sum(up', value: { max: 1 } }),
    );
    expect(broken).toMatchObject({ ok: false });
    expect(broken.error).toBe(
      'prometheus bad_data: invalid parameter "query": 1:7: parse error: unclosed left parenthesis',
    );
  });

  it('judges every point of a lookback range, each at its own timestamp', async () => {
    const service = await startMeteredService('range');
    const requests = `sum(gameday_lab_http_requests_total{service="${service.service}"})`;
    const first = await queryValue(requests);
    // A counter: later scrapes are higher, so an instant query now holds `min` and the range does not.
    await waitFor(async () => (await queryValue(requests)) > first + 10, { what: 'more requests scraped' });
    const spec = { url: prometheusUrl(), query: requests, value: { min: first + 5 } };
    const instant = await samplePrometheus(planOf(spec));
    const range = await samplePrometheus(planOf({ ...spec, lookback: '30s' }));
    await service.stop();
    expect(instant.ok).toBe(true);
    expect(range.ok).toBe(false);
    expect(range.error).toMatch(
      new RegExp(`^\\d+ below min ${first + 5} for \\{\\} at \\d{4}-\\d\\d-\\d\\dT`),
    );
  });
});
