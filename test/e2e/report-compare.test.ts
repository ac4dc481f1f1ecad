/** `gameday report --compare` as a user runs it, and the page it writes opened in Chromium. */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/tools';
import { openReport } from '../browser';
import { gameday, scratchDir } from '../helpers';

const fixture = (name: string) => join(PROJECT_ROOT, 'test/fixtures/journals', name);
const FRAGILE = fixture('replay-fragile.json');
const HARDENED = fixture('replay-hardened.json');

describe('gameday report --compare', () => {
  it('renders the builds side by side in Chromium, with no console error and no request', async () => {
    const out = join(await scratchDir('compare'), 'compare.html');
    const { code, stderr } = await gameday(['report', '--compare', FRAGILE, HARDENED, '--out', out]).done;
    expect(code, stderr).toBe(0);
    const opened = await openReport(out);
    try {
      const { page } = opened;
      expect(await page.locator('h1').textContent()).toBe('oct20-replay: 2 runs compared');
      expect(await page.locator('section[data-section="dns-void"] tbody tr').count()).toBeGreaterThan(3);
      const verdicts = await page
        .locator('section[data-section="run"] tr.differs')
        .first()
        .locator('td')
        .allTextContents();
      expect(verdicts).toEqual(['deviated', 'passed']);
      expect(await page.locator('section.differences li').count()).toBeGreaterThan(0);
      await opened.screenshot('compare-fragile-hardened');
      expect(opened.complaints).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it('a run compared with itself shows no difference, in HTML and in Markdown', async () => {
    const out = join(await scratchDir('compare-self'), 'compare.html');
    expect((await gameday(['report', '--compare', HARDENED, HARDENED, '--out', out]).done).code).toBe(0);
    const opened = await openReport(out);
    try {
      expect(await opened.page.locator('tr.differs').count()).toBe(0);
      expect(await opened.page.locator('p.no-difference').textContent()).toContain('No difference');
      expect(opened.complaints).toEqual([]);
    } finally {
      await opened.close();
    }
    const md = await gameday(['report', '--compare', HARDENED, HARDENED, '--format', 'md']).done;
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('## What differs\n\nNo difference');
  });

  it('refuses bad input with one line and exit 64, and writes nothing', async () => {
    const dir = await scratchDir('compare-bad');
    const out = join(dir, 'compare.html');
    const other = join(dir, 'other.json');
    const journal = JSON.parse(await readFile(HARDENED, 'utf8'));
    journal.experiment.name = 'checkout';
    await writeFile(other, JSON.stringify(journal));
    const cases: [string[], string][] = [
      [
        [FRAGILE, join(dir, 'missing.json')],
        `${join(dir, 'missing.json')}: cannot read a journal: no such file or directory`,
      ],
      [
        [FRAGILE, join(PROJECT_ROOT, 'package.json')],
        `${join(PROJECT_ROOT, 'package.json')}: not a gameday journal: version: Invalid input: expected 1`,
      ],
      [
        [FRAGILE, other],
        `--compare: ${other} is a run of checkout, ${FRAGILE} of oct20-replay: compare runs of one experiment`,
      ],
      [[FRAGILE], '--compare needs at least two journals'],
      [[FRAGILE, HARDENED, '--format', 'junit'], '--format junit: a comparison is html or md'],
    ];
    for (const [args, message] of cases) {
      const run = await gameday(['report', '--compare', ...args, '--out', out]).done;
      expect(run.code, args.join(' ')).toBe(64);
      expect(run.stderr.trim().split('\n')).toEqual([`gameday: ${message}`]);
    }
    expect(existsSync(out)).toBe(false);
  });
});
