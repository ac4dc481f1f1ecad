/** `gameday report` as a user runs it: any journal in any format, and a trend over a directory. */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/tools';
import { gameday, scratchDir } from '../helpers';
import { junitErrors, NO_JUNIT_ERRORS } from '../junit-schema';

const fixture = (name: string) => join(PROJECT_ROOT, 'test/fixtures/journals', name);

describe('gameday report', () => {
  it('re-renders a journal as HTML, Markdown, JUnit or JSON', async () => {
    const html = await gameday(['report', fixture('replay-fragile.json')]).done;
    expect(html.code).toBe(0);
    expect(html.stdout).toContain('<p class="verdict">DEVIATED</p>');
    const md = await gameday(['report', fixture('replay-fragile.json'), '--format', 'md']).done;
    expect(md.stdout).toMatch(/^# oct20-replay: deviated\n/);
    const junit = await gameday(['report', fixture('replay-hardened.json'), '--format', 'junit']).done;
    expect(await junitErrors(junit.stdout)).toEqual(NO_JUNIT_ERRORS);
    const json = await gameday(['report', fixture('replay-hardened.json'), '--format', 'json']).done;
    expect(JSON.parse(json.stdout).verdict).toBe('passed');
  });

  it('builds one trend page from every journal under a directory', async () => {
    const dir = await scratchDir('trend');
    for (const [night, name] of [
      ['night-1', 'replay-fragile.json'],
      ['night-2', 'replay-hardened.json'],
    ] as const) {
      await mkdir(join(dir, night));
      await copyFile(fixture(name), join(dir, night, 'journal.json'));
    }
    const out = join(dir, 'trend.html');
    const { code, stderr } = await gameday(['report', '--trend', dir, '--out', out]).done;
    expect(code, stderr).toBe(0);
    const page = await readFile(out, 'utf8');
    expect(page).toContain('<h1>oct20-replay: resilience trend</h1>');
    expect(page.match(/<li class="verdict-/g)).toHaveLength(2);
  });

  it('asks which experiment when the directory holds runs of several', async () => {
    const dir = await scratchDir('mixed');
    await mkdir(join(dir, 'a'));
    await copyFile(fixture('replay-fragile.json'), join(dir, 'a', 'journal.json'));
    const other = JSON.parse(await readFile(fixture('replay-hardened.json'), 'utf8'));
    other.experiment.name = 'checkout';
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'b', 'journal.json'), JSON.stringify(other));
    const both = await gameday(['report', '--trend', dir]).done;
    expect(both.code).toBe(64);
    expect(both.stderr).toContain(
      'holds runs of 2 experiments (checkout, oct20-replay); choose one with --experiment',
    );
    const chosen = await gameday(['report', '--trend', dir, '--experiment', 'checkout']).done;
    expect(chosen.code).toBe(0);
    expect(chosen.stdout).toContain('<h1>checkout: resilience trend</h1>');
  });

  it('refuses what it cannot render with exit 64, naming the file and what is wrong', async () => {
    const notJournal = await gameday(['report', join(PROJECT_ROOT, 'package.json')]).done;
    expect(notJournal.code).toBe(64);
    expect(notJournal.stderr).toContain('package.json: not a gameday journal: version');
    const format = await gameday(['report', fixture('replay-fragile.json'), '--format', 'pdf']).done;
    expect(format.code).toBe(64);
    expect(format.stderr).toContain('--format pdf: choose one of html, md, junit, json');
    const empty = await gameday(['report', '--trend', await scratchDir('empty')]).done;
    expect(empty.code).toBe(64);
    expect(empty.stderr).toContain('no readable journal.json under it');
  });
});
