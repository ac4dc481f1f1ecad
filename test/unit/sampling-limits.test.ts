/**
 * What a valid file may make its probes send: a floor on the sampling interval and a limit on a
 * run's probe requests a second, both refused at validate with the figure and where.
 */
import { describe, expect, it } from 'vitest';
import { ExperimentError, formatIssue, parseExperiment } from '../../src/experiment/load';

const head = `version: 1
name: unit
description: d
target: { environment: local }
`;

function problems(source: string): string[] {
  try {
    parseExperiment(source, 'e.yaml');
  } catch (error) {
    if (error instanceof ExperimentError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

describe('the sampling floor', () => {
  it('refuses every: 0ms on guardrails, steady-state probes and expectations, saying what the floor is', () => {
    const source = `${head}steadyState:
  - name: ok
    http: { url: http://127.0.0.1:9/ }
    sample: { every: 0ms, count: 10000 }
guardrails:
  - { name: g1, probe: ok, every: 0ms, abortWhen: { errorRate: 0.5 } }
  - { name: g2, probe: ok, every: 19ms, abortWhen: { errorRate: 0.5 } }
phases:
  - name: p
    duration: 40s
    expect: [{ probe: ok, every: 5ms, expect: { errorRate: 0 } }]
`;
    const floor = 'at least 20ms between samples';
    const found = problems(source);
    expect(found.filter((line) => line.includes(floor)).map((line) => line.split('  ')[0])).toEqual([
      'e.yaml:8:22',
      'e.yaml:10:35',
      'e.yaml:11:35',
      'e.yaml:15:34',
    ]);
  });

  it('accepts the floor itself', () => {
    const source = `${head}steadyState:
  - { name: ok, http: { url: http://127.0.0.1:9/ }, sample: { every: 20ms, count: 5 } }
guardrails:
  - { name: g, probe: ok, every: 20ms, abortWhen: { consecutiveFailures: 3 } }
phases:
  - { name: p, duration: 1s }
`;
    expect(problems(source)).toEqual([]);
  });
});

describe("a run's probe request rate", () => {
  const probes = `steadyState:
  - { name: a, http: { url: http://127.0.0.1:9/ }, sample: { every: 20ms, count: 5 } }
  - { name: b, http: { url: http://127.0.0.1:9/ }, sample: { every: 20ms, count: 5 } }
  - { name: c, http: { url: http://127.0.0.1:9/ }, sample: { every: 100ms, count: 5 } }
`;

  it('refuses a phase whose guardrails and expectations together send more than the default 100 a second', () => {
    const source = `${head}${probes}guardrails:
  - { name: g1, probe: a, every: 20ms, abortWhen: { errorRate: 0.5 } }
  - { name: g2, probe: c, every: 50ms, abortWhen: { errorRate: 0.5 } }
phases:
  - { name: calm, duration: 1s, expect: [{ probe: c, expect: { errorRate: 0 } }] }
  - name: busy
    duration: 1s
    expect: [{ probe: a, expect: { errorRate: 0 } }, { probe: b, every: 40ms, expect: { errorRate: 0 } }]
`;
    expect(problems(source)).toEqual([
      'e.yaml:6:3  steadyState  would send 110 probe requests a second (the steady-state probes together), above settings.maxProbeRate 100: sample less often, or raise settings.maxProbeRate (at most 200) if the target and the worker can take it',
      'e.yaml:14:5  phases[1]  would send 145 probe requests a second (guardrails 70, expectations 75), above settings.maxProbeRate 100: sample less often, or raise settings.maxProbeRate (at most 200) if the target and the worker can take it',
    ]);
  });

  it('lets a file raise the limit deliberately, up to its ceiling', () => {
    const raised = `${head}settings: { maxProbeRate: 200 }\n${probes}phases:\n  - { name: p, duration: 1s }\n`;
    expect(problems(raised)).toEqual([]);
    const tooHigh = `${head}settings: { maxProbeRate: 5000 }\n${probes}phases:\n  - { name: p, duration: 1s }\n`;
    expect(problems(tooHigh)).toEqual([
      'e.yaml:5:27  settings.maxProbeRate  at most 200 requests a second, the most a worker samples and still reverts at once',
    ]);
  });

  it('refuses more than 50 guardrails, steady-state probes or expectations of a phase', () => {
    const many = Array.from(
      { length: 51 },
      (_, i) => `  - { name: g${i}, probe: a, every: 10s, abortWhen: { errorRate: 0.5 } }`,
    );
    const source = `${head}settings: { maxProbeRate: 200 }\n${probes}guardrails:\n${many.join('\n')}\nphases:\n  - { name: p, duration: 1s }\n`;
    expect(problems(source)).toEqual([
      "e.yaml:11:3  guardrails  at most 50: a worker holds each one's samples in memory while it watches",
    ]);
  });

  it('fills in the default limit', () => {
    const experiment = parseExperiment(
      `${head}steadyState:\n  - { name: a, http: { url: http://127.0.0.1:9/ } }\nphases:\n  - { name: p, duration: 1s }\n`,
      'e.yaml',
    );
    expect(experiment.settings.maxProbeRate).toBe(100);
  });
});
