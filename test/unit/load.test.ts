import { describe, expect, it } from 'vitest';
import { ExperimentError, formatIssue, parseExperiment } from '../../src/experiment/load';

const base = `version: 1
name: unit
description: d
target: { environment: local }
steadyState:
  - name: ok
    http: { url: http://127.0.0.1:9/ }
`;

function problems(source: string, file = 'e.yaml'): string[] {
  try {
    parseExperiment(source, file);
  } catch (error) {
    if (error instanceof ExperimentError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

describe('loading an experiment', () => {
  it('accepts a minimal file and fills in the defaults', () => {
    const experiment = parseExperiment(`${base}phases:\n  - { name: p, duration: 1s }\n`, 'e.yaml');
    expect(experiment.timeScale).toBe(1);
    expect(experiment.recovery.within).toBe('1m');
    expect(experiment.settings.rollbackTimeout).toBe('10m');
    expect(experiment.steadyState[0]?.sample).toEqual({ every: '500ms', count: 10 });
    expect(experiment.steadyState[0]?.http?.method).toBe('GET');
  });

  it('accepts every toxic type with its attributes', () => {
    const toxics = [
      'latency, attributes: { latency: 100, jitter: 10 }',
      'bandwidth, attributes: { rate: 10 }',
      'slow_close, attributes: { delay: 100 }',
      'timeout, attributes: { timeout: 0 }',
      'reset_peer, attributes: { timeout: 10 }',
      'slicer, attributes: { average_size: 10, size_variation: 2, delay: 5 }',
      'limit_data, attributes: { bytes: 100 }',
    ];
    const faults = toxics.map(
      (t, i) =>
        `      - { name: f${i}, toxiproxy: { proxy: x, stream: upstream, toxicity: 0.5, toxic: ${t} } }`,
    );
    const source = `${base}phases:\n  - name: p\n    duration: 1s\n    faults:\n${faults.join('\n')}\n      - { name: down, toxiproxy: { proxy: x, down: true } }\n`;
    expect(problems(source)).toEqual([]);
  });

  it('names the fault provider rule when none or two are given', () => {
    const source = `${base}phases:\n  - name: p\n    duration: 1s\n    faults:\n      - { name: f }\n`;
    expect(problems(source)).toEqual([
      'e.yaml:12:9  phases[0].faults[0]  needs exactly one fault provider (toxiproxy, awsEc2, awsFis, route53)',
    ]);
  });

  it('reports a toxic attribute that does not belong to its type, at the key', () => {
    const source = `${base}phases:\n  - name: p\n    duration: 1s\n    faults:\n      - name: f\n        toxiproxy: { proxy: x, toxic: latency, attributes: { latency: 1, rate: 2 } }\n`;
    expect(problems(source)).toEqual([
      'e.yaml:13:74  phases[0].faults[0].toxiproxy.attributes.rate  unknown key "rate"',
    ]);
  });

  it('says `down` must be true rather than listing toxic types', () => {
    const source = `${base}phases:\n  - name: p\n    duration: 1s\n    faults:\n      - { name: f, toxiproxy: { proxy: x, down: false } }\n`;
    expect(problems(source)).toEqual([
      'e.yaml:12:49  phases[0].faults[0].toxiproxy.down  expected true, got false',
    ]);
  });

  it('reports several problems at once, in file order', () => {
    const source = `version: 2\nname: Bad Name\ndescription: d\ntarget: { environment: moon }\nsteadyState: []\nphases: []\n`;
    expect(problems(source)).toEqual([
      'e.yaml:1:10  version  expected 1, got 2',
      'e.yaml:2:7  name  lowercase letters, digits and dashes, at most 63 characters',
      'e.yaml:4:24  target.environment  expected "local" or "staging" or "production", got "moon"',
      'e.yaml:5:14  steadyState  name at least one steady-state probe: it is the hypothesis',
      'e.yaml:6:9  phases  Too small: expected array to have >=1 items',
    ]);
  });

  it('refuses duplicate keys', () => {
    expect(problems(`${base}phases: []\nphases: []\n`)[0]).toMatch(
      /^e\.yaml:9:1 {2}\(file\) {2}Map keys must be unique/,
    );
  });

  it('refuses a guardrail whose abortWhen names nothing', () => {
    const source = `${base}guardrails:\n  - { name: g, probe: ok, every: 1s, abortWhen: {} }\nphases:\n  - { name: p, duration: 1s }\n`;
    expect(problems(source)).toEqual([
      'e.yaml:9:49  guardrails[0].abortWhen  name at least one of errorRate, latencyP99, consecutiveFailures',
    ]);
  });

  it('accepts an inline guardrail probe and reports errors inside it', () => {
    const good = `${base}guardrails:\n  - name: g\n    probe: { http: { url: http://127.0.0.1:9/x } }\n    every: 1s\n    abortWhen: { errorRate: 0.5 }\nphases:\n  - { name: p, duration: 1s }\n`;
    expect(problems(good)).toEqual([]);
    const bad = good.replace('http://127.0.0.1:9/x', 'ftp://x');
    expect(problems(bad)).toEqual(['e.yaml:10:27  guardrails[0].probe.http.url  an http:// or https:// URL']);
  });
});

describe('environment references', () => {
  // Inside a YAML flow mapping ({ ... }) the reference must be quoted.
  const withUrl = `${base.replace('http://127.0.0.1:9/', '"${{ env.GAMEDAY_TEST_URL }}/health"')}phases:\n  - { name: p, duration: 1s }\n`;

  it("are replaced by the planner's environment when the file is loaded", () => {
    const experiment = parseExperiment(withUrl, 'e.yaml', { GAMEDAY_TEST_URL: 'http://127.0.0.1:4242' });
    expect(experiment.steadyState[0]?.http?.url).toBe('http://127.0.0.1:4242/health');
  });

  it('that are not set are an error at their place', () => {
    try {
      parseExperiment(withUrl, 'e.yaml', {});
      expect.unreachable();
    } catch (error) {
      expect((error as ExperimentError).issues.map(formatIssue)[0]).toBe(
        'e.yaml:7:18  steadyState[0].http.url  ${{ env.GAMEDAY_TEST_URL }} needs the environment variable GAMEDAY_TEST_URL, which is not set',
      );
    }
  });
});

describe('YAML aliases and nesting', () => {
  const phases = 'phases:\n  - { name: p, duration: 1s }\n';

  it('accepts aliases to anchors set before them', () => {
    const source = `${base}${phases}tags: [&net network, *net]\n`;
    expect(parseExperiment(source, 'e.yaml').tags).toEqual(['network', 'network']);
  });

  it('refuses an alias to a value that contains it, which would be endless data', () => {
    expect(problems(`${base}${phases}tags: &t [network, *t]\n`)).toEqual([
      'e.yaml:10:20  tags[1]  alias *t refers to a value that contains it',
    ]);
  });

  it('holds nesting to 64 levels, and says where it goes deeper', () => {
    const nested = (levels: number) => `${base}${phases}tags: ${'['.repeat(levels)}${']'.repeat(levels)}\n`;
    // The document is one level; 63 lists inside it are legal YAML, and only the schema refuses them.
    expect(problems(nested(63))[0]).toBe('e.yaml:10:8  tags[0]  expected string, got a list');
    expect(problems(nested(64))).toEqual([
      'e.yaml:10:70  (file)  nested more than 64 levels deep; an experiment file needs far fewer',
    ]);
  });
});
