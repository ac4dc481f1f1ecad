/**
 * Bad paths, as users type them, in every command that reads or writes files: one line that names
 * the path and the reason, exit 73 for output (64 for input), never a stack trace, and a run that
 * cannot write where it was told starts nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/lab/ports';
import { PROJECT_ROOT } from '../../src/tools';
import {
  cliEnv,
  experimentFor,
  gameday,
  observeProxy,
  proxyState,
  scratchDir,
  startTarget,
  uniqueName,
  writeExperiment,
} from '../helpers';

const JOURNAL = 'test/fixtures/journals/replay-hardened.json';

/** A scratch directory holding a plain file, to write "under". */
async function withAFile() {
  const dir = await scratchDir('paths');
  const file = join(dir, 'a-file');
  await writeFile(file, 'not a directory\n');
  return { dir, file };
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  return lines[0] as string;
}

describe('gameday report --out', () => {
  it('under a file: one line naming the path and why, exit 73', async () => {
    const { file } = await withAFile();
    const out = join(file, 'report.html');
    const { code, stderr } = await gameday(['report', JOURNAL, '--out', out]).done;
    expect(oneLine(stderr)).toBe(`gameday: cannot write ${out}: ${file} is a file, not a directory`);
    expect(code).toBe(73);
  });

  it('into a directory that does not exist yet: creates it, as run --out does', async () => {
    const { dir } = await withAFile();
    const out = join(dir, 'new', 'deeper', 'report.md');
    const { code } = await gameday(['report', JOURNAL, '--format', 'md', '--out', out]).done;
    expect(code).toBe(0);
    expect(await readFile(out, 'utf8')).toContain('# oct20-replay: passed');
  });

  it('onto a directory, and --trend under a file: exit 73', async () => {
    const { dir, file } = await withAFile();
    const onto = await gameday(['report', JOURNAL, '--out', dir]).done;
    expect(oneLine(onto.stderr)).toBe(`gameday: cannot write ${dir}: it is a directory`);
    expect(onto.code).toBe(73);
    const trend = join(file, 'trend.html');
    const nights = join(dir, 'nights');
    await mkdir(join(nights, 'one'), { recursive: true });
    await writeFile(join(nights, 'one', 'journal.json'), await readFile(JOURNAL));
    const underFile = await gameday(['report', '--trend', nights, '--out', trend]).done;
    expect(oneLine(underFile.stderr)).toBe(
      `gameday: cannot write ${trend}: ${file} is a file, not a directory`,
    );
    expect(underFile.code).toBe(73);
  });
});

describe('standard output on a full disk', () => {
  /** The command with its standard output on /dev/full: every write fails with ENOSPC. */
  function ontoFullDisk(args: string[]) {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/gameday.js'), ...args], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    return new Promise<{ code: number | null; stderr: string }>((resolve) =>
      child.on('exit', (code) => resolve({ code, stderr })),
    );
  }

  it('is an error, exit 73, for schema and report (not a silent exit 0)', async () => {
    for (const args of [['schema'], ['report', JOURNAL, '--format', 'json']]) {
      const { code, stderr } = await ontoFullDisk(args);
      expect(oneLine(stderr)).toBe('gameday: cannot write standard output: no space left on the device');
      expect(code).toBe(73);
    }
  });
});

describe('reading a directory as a file', () => {
  it('validate, plan and report say it is a directory (exit 64)', async () => {
    const { dir } = await withAFile();
    const validate = await gameday(['validate', dir]).done;
    expect(oneLine(validate.stderr)).toBe(`${dir}:1:1  (file)  cannot read the file: it is a directory`);
    expect(validate.code).toBe(64);
    const plan = await gameday(['plan', dir]).done;
    expect(plan.code).toBe(64);
    const report = await gameday(['report', dir]).done;
    expect(oneLine(report.stderr)).toBe(`gameday: ${dir}: cannot read a journal: it is a directory`);
    expect(report.code).toBe(64);
  });
});

describe('gameday run with an output it cannot write', () => {
  it('--out under a file: exit 73 before anything runs', async () => {
    const { file: aFile } = await withAFile();
    const target = await startTarget();
    const watched = observeProxy(target.proxy);
    const experiment = await writeExperiment(experimentFor(target));
    const runId = uniqueName('bad-out');
    const { code, stderr } = await gameday(
      ['run', '--local', experiment, '--out', aFile, '--id', runId],
      cliEnv(uniqueName('q')),
    ).done;
    expect(oneLine(stderr)).toBe(
      `gameday: cannot write ${join(aFile, runId)}: ${aFile} is a file, not a directory`,
    );
    expect(code).toBe(73);
    expect((await watched.stop()).every((seen) => seen.enabled && seen.toxics.length === 0)).toBe(true);
  });

  it('GAMEDAY_HOME under a file: run --local and worker --local exit 73 and start no server', async () => {
    const { file } = await withAFile();
    const home = join(file, 'home');
    const env = {
      TEMPORAL_ADDRESS: undefined,
      GAMEDAY_HOME: home,
      GAMEDAY_LOCAL_PORT: String(await freePort()),
    };
    const expected = `gameday: cannot write ${home}: ${file} is a file, not a directory`;
    const run = await gameday(['run', '--local', 'experiments/examples/checkout-latency.yaml'], env).done;
    expect(oneLine(run.stderr)).toBe(expected);
    expect(run.code).toBe(73);
    const worker = await gameday(['worker', '--local'], env).done;
    expect(oneLine(worker.stderr)).toBe(expected);
    expect(worker.code).toBe(73);
  });

  it('an --out that disappears during the run: the verdict, then the path and why, exit 73', async () => {
    const target = await startTarget();
    const experiment = await writeExperiment(
      experimentFor(target, {
        phases: [
          {
            name: 'long',
            duration: '2m',
            faults: [
              {
                name: 'svc-latency',
                toxiproxy: { proxy: target.proxy, toxic: 'latency', attributes: { latency: 5 } },
              },
            ],
          },
        ],
      }),
    );
    const out = join(await scratchDir('out'), 'runs');
    await mkdir(out);
    const runId = uniqueName('gone-out');
    const env = cliEnv(uniqueName('q'));
    const run = gameday(['run', '--local', experiment, '--out', out, '--id', runId], env);
    await run.until(async () => (await proxyState(target.proxy)).toxics.length > 0, 'the toxic');

    // The disk the reports were to go to is replaced by something that cannot hold them.
    await rm(out, { recursive: true });
    await writeFile(out, 'a file now\n');
    expect((await gameday(['abort', runId, '--reason', 'test'], env).done).code).toBe(0);
    const { code, stdout, stderr } = await run.done;

    expect(stdout).toContain('ABORTED abort by');
    // Before it, the in-process worker warned of each failed attempt to write, a line each.
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr.trim().split('\n').at(-1)).toBe(
      `gameday: cannot write ${join(out, runId)}: ${out} is a file, not a directory. Neither the worker nor this ` +
        `process could write the journal; the result stays in Temporal (\`gameday status ${runId}\` shows the verdict).`,
    );
    expect(code).toBe(73);
    expect(existsSync(join(out, runId))).toBe(false);
    expect(await proxyState(target.proxy)).toEqual({ enabled: true, toxics: [] });
  });
});

describe('gameday lab up --home under a file', () => {
  it('exits 73 with the path and why, and starts nothing', async () => {
    const { file } = await withAFile();
    const home = join(file, 'lab');
    const { code, stderr } = await gameday(['lab', 'up', '--home', home]).done;
    expect(oneLine(stderr)).toBe(`gameday: cannot write ${home}: ${file} is a file, not a directory`);
    expect(code).toBe(73);
  });
});
