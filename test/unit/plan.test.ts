import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../src/experiment/load';
import { PlanRefused, planRun } from '../../src/experiment/plan';

const experiment = (extra = '') =>
  parseExperiment(
    `version: 1
name: unit
description: d
target: { environment: local }
timeScale: 0.01
settings:
  toxiproxy: { url: http://127.0.0.1:8474 }
steadyState:
  - name: ok
    http: { url: http://127.0.0.1:9/, timeout: 250ms, headers: { Authorization: "Bearer \${GAMEDAY_SECRET_TOKEN}" } }
    expect: { latencyP99: 300ms, errorRate: 0.01 }
guardrails:
  - { name: g, probe: ok, every: 100ms, abortWhen: { latencyP99: 1s } }
phases:
  - name: slow
    duration: 1h
    faults:
      - { name: db-latency, toxiproxy: { proxy: db, toxic: latency, attributes: { latency: 800 } } }
    expect:
      - { probe: ok, expect: { errorRate: 0.5 } }
  - name: down
    duration: 30m
    faults:
      - { name: db-down, toxiproxy: { proxy: db, down: true } }
${extra}`,
    'e.yaml',
  );

const options = { runId: 'night-1', file: '/x/e.yaml', sha256: 'abc', outDir: '/out/night-1', env: {} };

describe('planning a run', () => {
  it('scales phase durations and names each toxic after the run and the fault', () => {
    const plan = planRun(experiment(), options);
    expect(plan.phases.map((p) => p.durationMs)).toEqual([36_000, 18_000]);
    expect(plan.phases[0]?.faults[0]).toEqual({
      name: 'db-latency',
      phase: 'slow',
      provider: 'toxiproxy',
      toxiproxy: {
        action: 'toxic',
        url: 'http://127.0.0.1:8474',
        proxy: 'db',
        toxic: {
          name: 'gameday.night-1.db-latency',
          type: 'latency',
          stream: 'downstream',
          toxicity: 1,
          attributes: { latency: 800, jitter: 0 },
        },
      },
    });
    expect(plan.phases[1]?.faults[0]).toMatchObject({ provider: 'toxiproxy' });
    expect(plan.phases[1]?.faults[0]).toMatchObject({
      toxiproxy: { action: 'down', url: 'http://127.0.0.1:8474', proxy: 'db' },
    });
  });

  it('resolves probes, guardrails and tolerances to milliseconds', () => {
    const plan = planRun(experiment(), options);
    expect(plan.steadyState[0]).toMatchObject({ kind: 'http', http: { timeoutMs: 250, okStatus: null } });
    expect(plan.steadyState[0]?.tolerance).toEqual({ latencyP99Ms: 300, errorRate: 0.01 });
    expect(plan.guardrails[0]).toMatchObject({ everyMs: 100, window: 5, abortWhen: { latencyP99Ms: 1_000 } });
    expect(plan.phases[0]?.expectations[0]).toMatchObject({ everyMs: 500, tolerance: { errorRate: 0.5 } });
    expect(plan.rollbackTimeoutMs).toBe(600_000);
  });

  it('keeps ${GAMEDAY_SECRET_*} references in headers for the worker to resolve', () => {
    expect(planRun(experiment(), options).steadyState[0]).toMatchObject({
      http: { headers: { Authorization: 'Bearer ${GAMEDAY_SECRET_TOKEN}' } },
    });
  });

  it('lets TOXIPROXY_URL override the file', () => {
    const plan = planRun(experiment(), { ...options, env: { TOXIPROXY_URL: 'http://127.0.0.1:9999' } });
    expect(plan.providers.toxiproxy).toMatchObject({ url: 'http://127.0.0.1:9999' });
    expect(plan.phases[0]?.faults[0]).toMatchObject({ toxiproxy: { url: 'http://127.0.0.1:9999' } });
  });

  it('refuses production without allowProduction, and bad run ids', () => {
    const production = parseExperiment(
      `version: 1\nname: p\ndescription: d\ntarget: { environment: production }\nsteadyState: [{ name: ok, http: { url: http://x/ } }]\nphases: [{ name: p, duration: 1s }]\n`,
      'p.yaml',
    );
    expect(() => planRun(production, options)).toThrow(PlanRefused);
    expect(planRun(production, { ...options, allowProduction: true }).environment).toBe('production');
    expect(() => planRun(experiment(), { ...options, runId: '../etc' })).toThrow(/run id/);
  });
});
