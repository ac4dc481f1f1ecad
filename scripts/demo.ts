/**
 * `npm run demo`: the October 20 lab, replayed three times. The lab comes up with the fragile
 * build, `gameday run --local experiments/oct20/replay.yaml` runs against it, the lab goes down;
 * then the same with the hardened build and the multi-region build. Prints each verdict, the
 * orders API's figures per phase, its RTO and RPO against the replay's continuity plan and the
 * report paths, writes the three runs compared side by side (`gameday report --compare`), prints
 * where that is last, and leaves nothing running.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pc from 'picocolors';
import type { BuildName } from '../src/lab/builds';
import { labDown, labEnv, labUp } from '../src/lab/lab';
import { compareRuns, renderCompareMarkdown } from '../src/report/compare';
import { renderCompareHtml } from '../src/report/compare-html';
import { scorecard } from '../src/report/continuity';
import { renderFidelityMarkdown } from '../src/report/fidelity';
import type { Journal } from '../src/report/journal';
import { PROJECT_ROOT } from '../src/tools';

const REPLAY = join(PROJECT_ROOT, 'experiments/oct20/replay.yaml');
const OUT = resolve('gameday-runs');
/**
 * fragile: down for the whole DNS void (its RTO missed). hardened: serves through it from its
 * cache and queue (the writes its stopped instances held are lost, within the plan's RPO).
 * multi-region: fails over to us-west-2 within the RTO, and loses what replication had not copied
 * when us-east-1 went (about the lag, within the plan's RPO). It keeps no stale DNS answers (the
 * failed lookups are how it knows to fail over, and to fail back), so the replay's DNS hypothesis,
 * the hardened build's lesson that no call fails to resolve the name, is the one check it fails.
 */
const EXPECTED: Record<BuildName, { verdict: string; failing?: string[] }> = {
  fragile: { verdict: 'deviated' },
  hardened: { verdict: 'passed' },
  'multi-region': { verdict: 'deviated', failing: ['dns-errors'] },
};
const asPlanned = (build: BuildName, journal: Journal) => {
  const { verdict, failing } = EXPECTED[build];
  const failed = journal.phases.flatMap((p) => (p.watch?.expectations ?? []).filter((e) => !e.ok));
  const continuityHeld = scorecard(journal).every((row) => row.held);
  return (
    journal.verdict === verdict &&
    (!failing || (continuityHeld && failed.length > 0 && failed.every((e) => failing.includes(e.probe))))
  );
};
const BUILD_NAMES: BuildName[] = ['fragile', 'hardened', 'multi-region'];

const outcomes: { build: BuildName; journal: Journal; report: string }[] = [];
for (const build of BUILD_NAMES) {
  console.log(pc.bold(`\n$ gameday lab up --build ${build}`));
  const lab = await labUp({ build });
  if (lab.secondRegion)
    console.log(
      `second region: ${lab.secondRegion.name}, replication lag ${lab.secondRegion.replicationLagMs}ms`,
    );
  console.log(`lab up: orders API at ${lab.endpoints.orders}, ${lab.size} instances`);
  try {
    console.log(pc.bold('$ gameday run --local experiments/oct20/replay.yaml'));
    const runId = `oct20-replay-${build}-${Date.now().toString(36)}`;
    await gameday(['run', '--local', REPLAY, '--out', OUT, '--id', runId], labEnv(lab));
    const journalPath = join(OUT, runId, 'journal.json');
    outcomes.push({
      build,
      journal: JSON.parse(await readFile(journalPath, 'utf8')),
      report: join(OUT, runId, 'report.html'),
    });
  } finally {
    const { killed } = await labDown();
    console.log(killed.length ? `lab down (killed ${killed.join(', ')})` : 'lab down');
  }
}

console.log(pc.bold('\nOctober 20, replayed against each build'));
for (const { build, journal, report } of outcomes) {
  const ok = asPlanned(build, journal);
  console.log(`\n${build}: ${(ok ? pc.green : pc.red)(journal.verdict.toUpperCase())} ${journal.reason}`);
  for (const phase of journal.phases) {
    const figures = (phase.watch?.expectations ?? [])
      .filter((e) => e.probe.startsWith('orders-'))
      .map(
        (e) =>
          `${e.probe.replace('orders-', '')}s${e.during ? ` during ${e.during}` : ''} ${(100 * (1 - e.summary.errorRate)).toFixed(1)}% p99 ${e.summary.latencyMs?.p99 ?? '-'}ms`,
      )
      .join(', ');
    console.log(`  ${phase.name.padEnd(20)} ${figures}`);
  }
  const recovered = journal.recovery.recoveredAfterMs;
  console.log(`  recovered ${recovered === null ? 'NOT in time' : `${recovered}ms after rollback`}`);
  for (const row of scorecard(journal))
    console.log(
      `  ${row.service} ${row.measure}: ${row.measured} (target ${row.target}) ${row.held ? pc.green('held') : pc.red('MISSED')}`,
    );
  console.log(`  report: ${report}`);
  console.log(`  review: ${join(report, '..', 'review.md')}`);
  console.log(`  junit:  ${join(report, '..', 'junit.xml')}`);
}

// What the lab's clients saw in each fault's window beside what clients saw on October 20 (README, "Fidelity").
console.log(pc.bold('\nfidelity: the error classes per fault window, October 20 and the lab'));
console.log(renderFidelityMarkdown(outcomes.map(({ build, journal }) => ({ label: build, journal }))));

// The builds side by side: what `gameday report --compare` writes from their journals.
if (outcomes.length > 1) {
  const compared = compareRuns(outcomes.map((outcome) => outcome.journal));
  const dir = join(OUT, `compare-${Date.now().toString(36)}`);
  await mkdir(dir, { recursive: true });
  const markdown = renderCompareMarkdown(compared);
  await writeFile(join(dir, 'compare.md'), markdown);
  await writeFile(join(dir, 'compare.html'), renderCompareHtml(compared));
  console.log(pc.bold(`\nthe builds compared (${outcomes.map((o) => o.build).join(', ')})\n`));
  console.log(markdown);
  console.log(pc.bold(`the builds compared: ${join(dir, 'compare.html')}`));
  console.log(`  (and ${join(dir, 'compare.md')})`);
}
const asExpected = outcomes.every(({ build, journal }) => asPlanned(build, journal));
process.exitCode = asExpected ? 0 : 1;

function gameday(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/gameday.js'), ...args], {
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    child.on('exit', (code) => done(code ?? 1));
  });
}
