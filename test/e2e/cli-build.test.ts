/**
 * The compiled CLI is never stale: bin/gameday.js, in a small project of its own (the real bin/,
 * package.json, tsconfig.json and node_modules; a two-file src/cli/main.ts), run after edits the
 * way a developer makes them.
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
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

function gameday(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(project, 'bin/gameday.js')], { cwd: project });
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
