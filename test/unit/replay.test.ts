/**
 * Recorded histories of full runs replay against the current workflow code: a change that would
 * make a run in flight take a different path on another worker fails here, not in production.
 * Re-record with `npx tsx scripts/record-history.ts` only when breaking old runs is intended.
 * Needs no server: the worker replays each history against the bundled workflow code.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflows, installQuietRuntime } from '../../src/temporal/worker';
import { PROJECT_ROOT } from '../../src/tools';

const histories = [
  'passed.json',
  'aborted-by-guardrail.json',
  'aws-ec2-and-fis.json',
  'gate-note-notify.json',
  'fault-timeline.json',
  'continuity.json',
  'phase-clock.json',
];

describe('recorded histories', () => {
  let workflowBundle: WorkflowBundleWithSourceMap;
  beforeAll(async () => {
    installQuietRuntime();
    workflowBundle = await bundleWorkflows();
  });

  it.each(histories)('%s replays without nondeterminism', async (file) => {
    const history = JSON.parse(await readFile(join(PROJECT_ROOT, 'test/fixtures/histories', file), 'utf8'));
    expect(history.events.length).toBeGreaterThan(20);
    await Worker.runReplayHistory({ workflowBundle }, history);
  });
});
