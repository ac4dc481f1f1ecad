/** `gameday validate`, `schema` and `plan` as a user runs them: exit codes and located errors. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cliEnv,
  experimentFor,
  gameday,
  proxyState,
  scratchDir,
  startTarget,
  uniqueName,
  writeExperiment,
} from '../helpers';

const invalid = (name: string) => `test/fixtures/invalid/${name}`;

describe('gameday validate', () => {
  it('lists every problem of every file as file:line:col  path  message, and exits 64', async () => {
    const { code, stderr } = await gameday([
      'validate',
      invalid('unknown-key.yaml'),
      invalid('bad-duration.yaml'),
    ]).done;
    expect(code).toBe(64);
    expect(stderr.trim().split('\n')).toEqual([
      'test/fixtures/invalid/unknown-key.yaml:9:5  guardrails[0].abortWhen  missing (expected object)',
      'test/fixtures/invalid/unknown-key.yaml:12:5  guardrails[0].abortwhen  unknown key "abortwhen"',
      'test/fixtures/invalid/bad-duration.yaml:7:54  steadyState[0].http.timeout  expected string, got number 2',
      'test/fixtures/invalid/bad-duration.yaml:10:15  phases[0].duration  a duration like 250ms, 30s, 5m, 1h or 2h52m',
      'test/fixtures/invalid/bad-duration.yaml:12:11  recovery.within  a duration like 250ms, 30s, 5m, 1h or 2h52m',
    ]);
  });

  it('reports duplicate names and references to probes that do not exist', async () => {
    const { code, stderr } = await gameday([
      'validate',
      invalid('duplicates.yaml'),
      invalid('missing-probe.yaml'),
    ]).done;
    expect(code).toBe(64);
    expect(stderr).toContain(
      'test/fixtures/invalid/duplicates.yaml:14:11  phases[1].name  duplicate phase name "p" (first at phases[0])',
    );
    expect(stderr).toContain(
      'duplicates.yaml:17:15  phases[1].faults[0].name  duplicate fault name "slow" (first at phases[0].faults[0])',
    );
    expect(stderr).toContain(
      'missing-probe.yaml:10:12  guardrails[0].probe  no steadyState probe is named "checkout" (known: checkout-ok)',
    );
    expect(stderr).toContain(
      'missing-probe.yaml:17:18  phases[0].expect[0].probe  no steadyState probe is named "payments-ok" (known: checkout-ok)',
    );
  });

  it('locates errors in JSON files and YAML syntax errors too', async () => {
    const { code, stderr } = await gameday(['validate', invalid('bad-toxic.json'), invalid('syntax.yaml')])
      .done;
    expect(code).toBe(64);
    expect(stderr).toContain(
      'bad-toxic.json:12:62  phases[0].faults[0].toxiproxy.toxic  expected one of "latency"',
    );
    expect(stderr).toContain(
      'bad-toxic.json:13:100  phases[0].faults[1].toxiproxy.attributes.latency  expected number, got string "800ms"',
    );
    expect(stderr).toMatch(/syntax\.yaml:4:1 {2}\(file\) {2}Flow sequence/);
  });

  it('refuses a phase, a wait or a steady-state check longer than a run holds, naming the limit', async () => {
    const { code, stderr } = await gameday(['validate', invalid('too-long.yaml')]).done;
    expect(code).toBe(64);
    expect(stderr.trim().split('\n')).toEqual([
      'test/fixtures/invalid/too-long.yaml:9:13  steadyState[0].sample  every 1h × count 200 is longer than the longest steady-state check a run holds, 168h (7 days)',
      'test/fixtures/invalid/too-long.yaml:11:35  guardrails[0].every  at most 168h (7 days): a run holds no longer wait',
      'test/fixtures/invalid/too-long.yaml:14:15  phases[0].duration  600h × timeScale 10 = 6000h is longer than the longest phase a run holds, 168h (7 days)',
      'test/fixtures/invalid/too-long.yaml:16:15  phases[1].duration  17h × timeScale 10 = 170h is longer than the longest phase a run holds, 168h (7 days)',
      'test/fixtures/invalid/too-long.yaml:17:42  phases[1].gate.timeout  at most 168h (7 days): a run holds no longer wait',
    ]);
  });

  it('exits 0 for the examples and 64 for a file that does not exist', async () => {
    const ok = await gameday(['validate', 'experiments/examples/checkout-latency.yaml']).done;
    expect(ok.code).toBe(0);
    const missing = await gameday(['validate', 'no/such/file.yaml']).done;
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain('no/such/file.yaml:1:1  (file)  cannot read the file: no such file');
  });

  it('exits 64 on unknown options, with the usage', async () => {
    const { code, stderr } = await gameday(['run', '--frobnicate', 'x.yaml']).done;
    expect(code).toBe(64);
    expect(stderr).toContain("unknown option '--frobnicate'");
  });
});

describe('YAML aliases and nesting that would exhaust the loader', () => {
  const refusals = [
    'test/fixtures/invalid/alias-unknown.yaml:5:17  tags[1]  alias *nope refers to no anchor before it (&nope must come first)',
    'test/fixtures/invalid/alias-later.yaml:5:17  tags[1]  alias *probe refers to no anchor before it (&probe must come first)',
    'test/fixtures/invalid/billion-laughs.yaml:8:8  f[0]  aliases expand this file to more than 100000 values (aliases of aliases, a "billion laughs"?)',
  ];

  it('validate refuses each with file:line:col and exit 64, and goes on to the next file', async () => {
    const { code, stdout, stderr } = await gameday([
      'validate',
      invalid('alias-unknown.yaml'),
      invalid('alias-later.yaml'),
      invalid('billion-laughs.yaml'),
      'experiments/examples/checkout-latency.yaml',
    ]).done;
    expect(stderr.trim().split('\n')).toEqual(refusals);
    expect(stdout).toContain('experiments/examples/checkout-latency.yaml: ok');
    expect(code).toBe(64);
  });

  it('plan and run refuse them the same way, before anything runs', async () => {
    const files = ['alias-unknown.yaml', 'alias-later.yaml', 'billion-laughs.yaml'];
    const runs = files.flatMap((name, index) =>
      ['plan', 'run'].map(async (command) => {
        const { code, stderr } = await gameday([command, invalid(name)], cliEnv(uniqueName('q'))).done;
        return { what: `${command} ${name}`, code, stderr: stderr.trim(), expected: refusals[index] };
      }),
    );
    for (const { what, code, stderr, expected } of await Promise.all(runs)) {
      expect(stderr, what).toBe(expected);
      expect(code, what).toBe(64);
    }
  });

  it('refuses a file nested 1,500 levels deep with one message, once', async () => {
    const dir = await scratchDir('deep');
    const flow = join(dir, 'flow.yaml');
    await writeFile(flow, `version: 1\ntags: ${'['.repeat(1500)}${']'.repeat(1500)}\n`);
    const block = join(dir, 'block.yaml');
    await writeFile(block, Array.from({ length: 1500 }, (_, depth) => `${' '.repeat(depth)}k:\n`).join(''));
    const json = join(dir, 'deep.json');
    await writeFile(json, `{"version": 1, "x": ${'{"a": '.repeat(1500)}1${'}'.repeat(1500)}}`);
    const { code, stderr } = await gameday(['validate', flow, block, json]).done;
    expect(stderr.trim().split('\n')).toEqual([
      `${flow}:2:70  (file)  nested more than 64 levels deep; an experiment file needs far fewer`,
      `${block}:65:65  (file)  nested more than 64 levels deep; an experiment file needs far fewer`,
      `${json}:1:399  (file)  nested more than 64 levels deep; an experiment file needs far fewer`,
    ]);
    expect(code).toBe(64);
  });
});

describe('gameday schema', () => {
  it('prints a JSON Schema that names the contract', async () => {
    const { code, stdout } = await gameday(['schema']).done;
    expect(code).toBe(0);
    const schema = JSON.parse(stdout);
    expect(schema.properties.phases.type).toBe('array');
    expect(schema.additionalProperties).toBe(false);
    expect(JSON.stringify(schema)).toContain('slow_close');
  });
});

describe('gameday plan', () => {
  it('prints scaled phase durations and the exact toxic names, and changes nothing', async () => {
    const target = await startTarget();
    const file = await writeExperiment(
      experimentFor(target, {
        timeScale: 0.5,
        phases: [
          {
            name: 'slow',
            duration: '1m',
            faults: [
              {
                name: 'db-latency',
                toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 200 } },
              },
            ],
          },
        ],
      }),
    );
    const { code, stdout } = await gameday(['plan', file, '--id', 'night-42']).done;
    expect(code).toBe(0);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
    expect(stdout).toContain('1. slow for 30s');
    expect(stdout).toContain(
      `db-latency: add toxic gameday.night-42.db-latency to proxy ${target.proxy}: latency downstream`,
    );
    const placeholder = await gameday(['plan', file]).done;
    expect(placeholder.stdout).toContain('gameday.<runId>.db-latency');
    await target.stop();
  });

  it('refuses a production experiment without --allow-production (exit 64)', async () => {
    const target = await startTarget();
    const file = await writeExperiment(experimentFor(target, { target: { environment: 'production' } }));
    const refused = await gameday(['plan', file]).done;
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain('targets production; pass --allow-production');
    const allowed = await gameday(['plan', file, '--allow-production']).done;
    expect(allowed.code).toBe(0);
    await target.stop();
  });
});
