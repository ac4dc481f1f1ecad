/**
 * The October 20 replay against one build of the lab, end to end: the verdict, every phase's fault
 * seen on the servers inside its window, and the lab restored and then gone.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { BuildName } from '../src/lab/builds';
import type { Journal } from '../src/report/journal';
import { PROJECT_ROOT } from '../src/tools';
import { gameday, scratchDir, uniqueName } from './helpers';
import {
  expectFaultsInTheirWindows,
  expectLabGone,
  expectLabRestored,
  labCliEnv,
  observeLab,
  startLab,
} from './lab-helpers';

export async function replayAgainst(
  build: BuildName,
  expected: { verdict: string; exitCode: number },
): Promise<Journal> {
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
  return journal;
}

/** The orders API's availability in a phase: the share of reads (or writes) that succeeded. */
export function availability(journal: Journal, phase: string, probe: 'orders-read' | 'orders-write'): number {
  const check = journal.phases
    .find((p) => p.name === phase)
    ?.watch?.expectations.find((e) => e.probe === probe);
  if (!check) throw new Error(`no ${probe} figures for ${phase}`);
  return 1 - check.summary.errorRate;
}
