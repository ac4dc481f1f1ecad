/**
 * What each command loads before it can start, read from the compiled CLI's own build record
 * (esbuild's metafile, dist/<build>/meta.json): the static imports reachable from the entry and
 * from the subcommand's chunk. bench/cli-startup.ts measures the time; this keeps a new top-level
 * import from quietly putting the Temporal worker or the AWS SDK back on `validate`'s path.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/tools';

interface Output {
  entryPoint?: string;
  inputs: Record<string, unknown>;
  imports: { path: string; kind: string; external?: boolean }[];
}

let outputs: Map<string, Output>;

beforeAll(() => {
  // Builds it if the sources changed since the last build.
  const started = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin/gameday.js'), '--version']);
  expect(started.status, started.stderr.toString()).toBe(0);
  const { hash } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'dist/current.json'), 'utf8'));
  const meta = JSON.parse(readFileSync(join(PROJECT_ROOT, 'dist', hash, 'meta.json'), 'utf8'));
  // The build was written elsewhere and moved into place: outputs go by file name.
  outputs = new Map(Object.entries(meta.outputs as Record<string, Output>).map(([p, o]) => [basename(p), o]));
});

/** Packages and source files loaded before `subcommand`'s action runs (the list, with none). */
function loadedFor(subcommand?: string): { packages: Set<string>; files: Set<string> } {
  const chunkOf = (entry: string) =>
    [...outputs].find(([name, o]) => !name.endsWith('.map') && o.entryPoint === entry)?.[0];
  const start = [chunkOf('src/cli/main.ts'), subcommand && chunkOf(`src/cli/${subcommand}.ts`)];
  expect(start.filter(Boolean)).toHaveLength(subcommand ? 2 : 1);
  return loadedFrom(start.filter((name): name is string => Boolean(name)));
}

/** Packages and source files that loading these chunks loads with them. */
function loadedFrom(chunks: string[]): { packages: Set<string>; files: Set<string> } {
  const packages = new Set<string>();
  const files = new Set<string>();
  const pending = [...chunks];
  const seen = new Set<string>();
  while (pending.length) {
    const name = pending.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const output = outputs.get(name) as Output;
    for (const file of Object.keys(output.inputs)) files.add(file);
    for (const imported of output.imports) {
      if (imported.kind !== 'import-statement') continue; // dynamic: loaded when used
      if (imported.external) packages.add(imported.path);
      else pending.push(basename(imported.path));
    }
  }
  return { packages, files };
}

const heavy = (packages: Set<string>) => [...packages].filter((p) => /^@(temporalio|aws-sdk)\//.test(p));

describe('what a command loads before it starts', () => {
  it('gameday --help: no experiment parsing, no Temporal, no AWS', () => {
    const { packages, files } = loadedFor();
    expect(heavy(packages)).toEqual([]);
    expect([...files].filter((f) => /node_modules\/(zod|yaml)\//.test(f))).toEqual([]);
  });

  it('gameday validate: the experiment schema, but no Temporal and no AWS', () => {
    const { packages, files } = loadedFor('validate');
    expect(heavy(packages)).toEqual([]);
    expect(files).toContain('src/experiment/schema.ts');
  });

  it('gameday status: the Temporal client, but not the worker nor AWS', () => {
    const { packages } = loadedFor('status');
    expect(packages).toContain('@temporalio/client');
    expect([...packages].filter((p) => p === '@temporalio/worker' || p.startsWith('@aws-sdk/'))).toEqual([]);
  });

  // A plain `status` (run dozens of times a day) redraws nothing and asks the run's query by name:
  // log-update's terminal tables (only --watch redraws) and the workflow SDK (only for
  // defineQuery) cost it ~50 ms each; the probe registry and zod (~70 ms) come only with the
  // guardrail samples they summarize (src/temporal/run-status.ts).
  it('gameday status: neither log-update, the workflow SDK nor the probe registry', () => {
    const { packages, files } = loadedFor('status');
    expect([...packages].filter((p) => p === 'log-update' || p === '@temporalio/workflow')).toEqual([]);
    expect(
      [...files].filter((f) => f === 'src/providers/index.ts' || f.includes('node_modules/zod/')),
    ).toEqual([]);
  });

  // With guardrail samples, status loads the summaries' module; the probe kinds are the workers'.
  it('gameday status with guardrail samples: the summaries, still without the probe registry', () => {
    const summaries = [...outputs].filter(
      ([name, o]) => !name.endsWith('.map') && 'activities/probes/series.ts' in o.inputs,
    );
    expect(summaries).toHaveLength(1);
    const { files } = loadedFrom(summaries.map(([name]) => name));
    expect(
      [...files].filter((f) => f === 'src/providers/index.ts' || f.includes('node_modules/zod/')),
    ).toEqual([]);
  });

  // Node's ES module wrapper of node:http reads all its exports, and the lazy fetch and WebSocket
  // classes among them load undici: ~100 ms of CPU and 7 MiB at every start (status missed its
  // 500 ms for this). Code on these paths takes node:http from process.getBuiltinModule instead.
  it.each([
    ['--help', undefined],
    ['validate', 'validate'],
    ['status', 'status'],
  ])('gameday %s: no ES import of node:http or node:https', (_label, command) => {
    const { packages } = loadedFor(command);
    expect([...packages].filter((p) => /^node:https?$/.test(p))).toEqual([]);
  });
});
