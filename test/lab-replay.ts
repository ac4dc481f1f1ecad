/**
 * The October 20 replay against one build of the lab, end to end: the verdict, every phase's fault
 * seen on the servers inside its window, and the lab restored and then gone.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { BuildName } from '../src/lab/builds';
import type { Journal } from '../src/report/journal';
import { timelineOf } from '../src/report/timeline';
import { PROJECT_ROOT } from '../src/tools';
import { openReport } from './browser';
import { gameday, scratchDir, uniqueName } from './helpers';
import { expectValidJunit } from './junit-schema';
import {
  expectFaultsInTheirWindows,
  expectLabGone,
  expectLabRestored,
  labCliEnv,
  type Observation,
  observeLab,
  startLab,
} from './lab-helpers';

export async function replayAgainst(
  build: BuildName,
  expected: { verdict: string; exitCode: number },
): Promise<{ journal: Journal; runDir: string; seen: Observation[] }> {
  const lab = await startLab(build);
  const observer = observeLab(lab);
  const out = await scratchDir('replay');
  const runId = uniqueName(`replay-${build}`);
  let result: Awaited<ReturnType<typeof gameday>['done']>;
  try {
    result = await gameday(
      ['run', '--local', join(PROJECT_ROOT, 'experiments/oct20/replay.yaml'), '--out', out, '--id', runId],
      labCliEnv(lab),
    ).done;
    await expectLabRestored(lab);
  } finally {
    await observer.stop();
  }
  const { code, stdout } = result;
  const seen = observer.seen;
  const journal: Journal = JSON.parse(await readFile(join(out, runId, 'journal.json'), 'utf8'));

  expect(journal.verdict, stdout).toBe(expected.verdict);
  expect(code).toBe(expected.exitCode);
  expect(journal.phases.map((p) => p.name)).toEqual([
    'dns-void',
    'lease-collapse',
    'network-backlog',
    'nlb-health-flapping',
    'throttled-100',
    'throttled-50',
    'throttled-10',
  ]);
  expectFaultsInTheirWindows(journal, seen);
  expect(journal.faults.every((f) => f.status === 'reverted')).toBe(true);
  await expectLabGone(lab);
  return { journal, runDir: join(out, runId), seen };
}

type OrdersProbe = 'orders-read' | 'orders-write';

/**
 * The orders API's availability in a phase: the share of reads, of writes, or of both, that
 * succeeded. Both together where the load balancer's round robin decides which target a request
 * meets: reads and writes take turns, so one probe alone can keep missing the broken target.
 */
export function availability(journal: Journal, phase: string, probes: OrdersProbe | OrdersProbe[]): number {
  const checks = [probes].flat().map((probe) => {
    const check = journal.phases
      .find((p) => p.name === phase)
      ?.watch?.expectations.find((e) => e.probe === probe);
    if (!check) throw new Error(`no ${probe} figures for ${phase}`);
    return check.summary;
  });
  const samples = checks.reduce((sum, summary) => sum + summary.samples, 0);
  const errors = checks.reduce((sum, summary) => sum + summary.errors, 0);
  return samples === 0 ? 0 : 1 - errors / samples;
}

/**
 * The reports the run wrote, as their readers get them: the HTML in real Chromium (no console
 * errors, no request beyond the file, the charts of each probe's kind with a band per phase), the JUnit
 * valid for CI tools, and hostile journal text shown literally.
 */
export async function expectReportsRead(journal: Journal, runDir: string, build: BuildName): Promise<void> {
  const report = await openReport(join(runDir, 'report.html'));
  try {
    const probes = new Set(timelineOf(journal).probes.map((p) => p.probe));
    // Requests are charted as latency and error rate, a fleet as the instances it counted.
    const expectedCharts = timelineOf(journal).probes.reduce(
      (n, p) => n + (p.kind === 'ec2Fleet' ? 1 : 2),
      0,
    );
    expect(await report.page.locator('.banner .verdict').textContent()).toBe(journal.verdict.toUpperCase());
    expect(await report.page.locator('figure.probe-timeline').count()).toBe(probes.size);
    const charts = report.page.locator('svg.chart');
    expect(await charts.count()).toBe(expectedCharts);
    const injected = journal.faults.filter((f) => f.injectedAt !== undefined).length;
    for (const chart of await charts.all()) {
      expect(await chart.locator('.phase-band').count()).toBe(journal.phases.length);
      expect(await chart.locator('.fault-window').count()).toBe(injected);
      expect(await chart.locator('.series path').count()).toBeGreaterThan(0);
    }
    await report.screenshot(`report-${build}`);
    expect(report.complaints).toEqual([]);
  } finally {
    await report.close();
  }

  await expectValidJunit(await readFile(join(runDir, 'junit.xml'), 'utf8'));

  // Text from outside (a note, an abort reason) must render as text, whatever it contains.
  const hostile = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> & "quotes"`;
  const tampered: Journal = {
    ...journal,
    notes: [{ at: journal.startedAt + 1_000, by: '<b>mallory</b>', text: hostile }],
  };
  const hostileJournal = join(runDir, 'hostile-journal.json');
  await writeFile(hostileJournal, JSON.stringify(tampered));
  const hostileHtml = join(runDir, 'hostile.html');
  const rendered = await gameday(['report', hostileJournal, '--format', 'html', '--out', hostileHtml]).done;
  expect(rendered.code, rendered.stderr).toBe(0);
  const page = await openReport(hostileHtml);
  try {
    expect(await page.page.locator('.notes .note-text').textContent()).toBe(hostile);
    expect(await page.page.locator('script, main img').count()).toBe(0);
    expect(await page.page.evaluate('typeof window.pwned')).toBe('undefined');
    expect(page.complaints).toEqual([]);
  } finally {
    await page.close();
  }
}
