/**
 * The compiled CLI is never stale: bin/gameday.js, in a small project of its own (the real bin/,
 * package.json, tsconfig.json and node_modules; a two-file src/cli/main.ts), run after edits the
 * way a developer makes them.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/tools';
import { scratchDir } from '../helpers';

let project: string;

beforeEach(async () => {
  project = await scratchDir('cli-build');
  await mkdir(join(project, 'bin'));
  for (const file of await readdir(join(PROJECT_ROOT, 'bin'))) {
    await copyFile(join(PROJECT_ROOT, 'bin', file), join(project, 'bin', file));
  }
  for (const file of ['package.json', 'tsconfig.json']) {
    await copyFile(join(PROJECT_ROOT, file), join(project, file));
  }
  await symlink(join(PROJECT_ROOT, 'node_modules'), join(project, 'node_modules'));
  await mkdir(join(project, 'src/cli'), { recursive: true });
  await writeFile(
    join(project, 'src/cli/main.ts'),
    "import { word } from './word';\nconst shout = (text: string): string => text.toUpperCase();\nconsole.log(shout(word));\n",
  );
  await writeWord('first');
});

const writeWord = (word: string) =>
  writeFile(join(project, 'src/cli/word.ts'), `export const word = '${word}';\n`);

function gameday(preload: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...preload, join(project, 'bin/gameday.js')], { cwd: project });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const builds = async () =>
  (await readdir(join(project, 'dist'))).filter((name) => /^[0-9a-f]{20}$/.test(name));

describe('the compiled CLI', () => {
  it('runs what the sources say after every edit, even one that keeps size and mtime', async () => {
    expect((await gameday()).stdout).toBe('FIRST\n');
    expect((await gameday()).stdout).toBe('FIRST\n');
    expect(await builds()).toHaveLength(1);

    // Same length and the same times: only the content says it changed.
    const file = join(project, 'src/cli/word.ts');
    const sameTime = new Date('2026-06-01T12:00:00Z');
    await writeWord('second');
    await utimes(file, sameTime, sameTime);
    expect((await gameday()).stdout).toBe('SECOND\n');
    await writeWord('fourth');
    await utimes(file, sameTime, sameTime);
    expect((await gameday()).stdout).toBe('FOURTH\n');

    // Back to an earlier content: its build is used again, not built once more.
    await writeWord('first');
    expect((await gameday()).stdout).toBe('FIRST\n');
    expect(await builds()).toHaveLength(3);
  });

  it('reads no source at a start while every file keeps its stamp, and still sees an edit that keeps size and mtime', async () => {
    // Counts the project's own files that the start reads (the build's check, not the run).
    const counter = join(project, 'count-reads.mjs');
    await writeFile(
      counter,
      `import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const read = fs.readFileSync;
let count = 0;
fs.readFileSync = (path, ...rest) => {
  if (String(path).includes('/src/cli/')) count++;
  return read(path, ...rest);
};
syncBuiltinESMExports();
process.on('exit', () => process.stderr.write(\`reads \${count}\`));
`,
    );
    const readsOfSources = async () => {
      const result = await gameday(['--import', counter]);
      return { stdout: result.stdout, reads: Number(/reads (\d+)$/.exec(result.stderr)?.[1]) };
    };
    // A stamp is kept only for a file older than the file system's time granularity (2 s).
    const file = join(project, 'src/cli/word.ts');
    const untilStampable = async () => {
      const changedAt = (await stat(file)).ctimeMs;
      await new Promise((done) => setTimeout(done, Math.max(0, changedAt + 2_100 - Date.now())));
    };
    const sameTime = new Date('2026-06-01T12:00:00Z');
    await utimes(file, sameTime, sameTime);
    await untilStampable();

    expect(await readsOfSources()).toEqual({ stdout: 'FIRST\n', reads: 2 }); // builds: reads both
    expect(await readsOfSources()).toEqual({ stdout: 'FIRST\n', reads: 0 });
    expect(await readsOfSources()).toEqual({ stdout: 'FIRST\n', reads: 0 });

    // Same length, same mtime, seen later: the ctime (set to now by any write and by utimes)
    // gives it away.
    await writeWord('later');
    await utimes(file, sameTime, sameTime);
    await untilStampable();
    expect((await readsOfSources()).stdout).toBe('LATER\n');
    expect(await builds()).toHaveLength(2);
  });

  it('gives processes that start together after an edit the new code, each a complete build', async () => {
    await gameday();
    await writeWord('together');
    const results = await Promise.all([gameday(), gameday(), gameday(), gameday()]);
    expect(results.map((r) => [r.code, r.stdout, r.stderr])).toEqual(
      Array.from({ length: 4 }, () => [0, 'TOGETHER\n', '']),
    );
    const { hash } = JSON.parse(await readFile(join(project, 'dist/current.json'), 'utf8'));
    expect(await builds()).toContain(hash);
    expect((await readdir(join(project, 'dist'))).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('says where a source does not compile, exits 70 and keeps no build of it', async () => {
    await gameday();
    await writeFile(join(project, 'src/cli/word.ts'), "export const word = 'unclosed;\n");
    const broken = await gameday();
    expect(broken.code).toBe(70);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toBe(
      'gameday: the sources do not compile:\nsrc/cli/word.ts:1:31  Unterminated string literal\n',
    );
    await writeWord('fixed');
    expect((await gameday()).stdout).toBe('FIXED\n');
  });

  it('says why when it cannot write its build, in one line, exit 70', async () => {
    await writeFile(join(project, 'dist'), 'not a directory');
    const refused = await gameday();
    expect(refused.code).toBe(70);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^gameday: cannot write the compiled CLI under \S+\/dist: EEXIST: file already exists[^\n]*\n$/,
    );
  });
});
