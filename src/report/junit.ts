/**
 * JUnit XML: one testsuite per run, one testcase per hypothesis check. It validates against both
 * schemas CI tools read: Jenkins xunit's junit-10.xsd and Apache Ant's JUnit.xsd (the stricter:
 * it wants properties, system-out and system-err, a timestamp without zone, a hostname).
 */
import { create } from 'xmlbuilder2';
import { scorecard } from './continuity';
import { gapsOf, gapText } from './coverage';
import type { Journal } from './journal';
import { checkResults } from './results';

export function renderJunit(journal: Journal, host = workerHost(journal)): string {
  const results = checkResults(journal);
  const plan = scorecard(journal);
  const failures =
    results.filter((r) => r.ok === false && !r.error).length + plan.filter((r) => !r.held).length;
  const errors = results.filter((r) => r.ok === false && r.error).length;
  const skipped = results.filter((r) => r.ok === null).length;
  const classBase = `gameday.${journal.experiment.name}`;

  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('testsuites');
  const suite = root.ele('testsuite', {
    name: journal.experiment.name,
    package: classBase,
    id: '0',
    timestamp: new Date(journal.startedAt).toISOString().slice(0, 19),
    hostname: host,
    tests: String(results.length + plan.length),
    failures: String(failures),
    errors: String(errors),
    skipped: String(skipped),
    time: seconds(journal.endedAt - journal.startedAt),
  });
  const properties = suite.ele('properties');
  const property = (name: string, value: string) =>
    properties.ele('property', { name, value: xmlText(value) });
  property('runId', journal.runId);
  property('verdict', journal.verdict);
  property('reason', journal.reason);
  property('experiment.file', journal.experiment.file);
  property('experiment.sha256', journal.experiment.sha256);
  property('environment', journal.experiment.environment);
  property('timeScale', String(journal.experiment.timeScale));
  property('recoveredAfterMs', String(journal.recovery.recoveredAfterMs ?? 'not recovered'));
  property('gameday', journal.environment.gameday);

  for (const result of results) {
    const testcase = suite.ele('testcase', {
      name: xmlText(result.name),
      classname: `${classBase}.${result.group.replace(/ /g, '-')}`,
      time: seconds(result.durationMs),
    });
    const message = xmlText(
      `${result.failure} (measured: ${result.measured}; tolerance: ${result.tolerance})`,
    );
    if (result.ok === null) testcase.ele('skipped', { message: xmlText(result.failure) });
    else if (result.ok === false)
      testcase
        .ele(result.error ? 'error' : 'failure', {
          message,
          type: result.error ? 'RunError' : result.undersampled ? 'TooFewSamples' : 'HypothesisFailed',
        })
        .txt(xmlText(`measured: ${result.measured}\ntolerance: ${result.tolerance}\n${result.failure}`));
  }
  // The continuity plan: one testcase per service and measure, failed when the target was missed.
  for (const row of plan) {
    const testcase = suite.ele('testcase', {
      name: xmlText(`${row.service} ${row.measure}`),
      classname: `${classBase}.continuity`,
      time: seconds(0),
    });
    if (!row.held)
      testcase
        .ele('failure', {
          message: xmlText(`${row.measure} missed: ${row.measured} (target: ${row.target})`),
          type: 'ContinuityPlanMissed',
        })
        .txt(xmlText(`measured: ${row.measured}\ntarget: ${row.target}\n${row.detail}`));
  }
  const remaining = journal.remaining.map((item) => `STILL INJECTED: ${item.what}: ${item.detail}`);
  const gaps = gapsOf(journal).map((gap) => `gap in the record: ${gapText(gap, journal.startedAt)}`);
  suite
    .ele('system-out')
    .txt(xmlText([`${journal.verdict}: ${journal.reason}`, ...remaining, ...gaps].join('\n')));
  suite.ele('system-err').txt(xmlText(remaining.join('\n')));
  return root.end({ prettyPrint: true });
}

/** Where the run ran: the host of the first worker that watched a phase (identities are host:pid). */
function workerHost(journal: Journal): string {
  const identity = journal.phases.find((phase) => phase.watch?.workers.length)?.watch?.workers[0];
  return identity?.replace(/:\d+$/, '') || 'localhost';
}

function seconds(ms: number): string {
  return (Math.max(ms, 0) / 1000).toFixed(3);
}

/** XML 1.0 cannot carry most control characters at all, even escaped: drop them. */
function xmlText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what XML 1.0 forbids
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
}
