/**
 * The safety lever's state as everyone reads it: the lever is engaged while the namespace's one
 * lever workflow (workflows/lever.ts) is running, and who engaged it, when and why is in that
 * workflow's memo. Reading it is a describe call, answered by the Temporal server alone: a run is
 * refused even when no worker is up, and nothing is lost when a worker or the CLI restarts.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';

export const LEVER_WORKFLOW_ID = 'gameday-lever';

export interface Lever {
  by: string;
  /** When it was engaged, epoch milliseconds. */
  at: number;
  reason: string;
}

/** What engaging did to the fleet: the runs it asked to abort and the schedules it paused. */
export interface FleetStopped {
  abortedRuns: string[];
  pausedSchedules: string[];
}

export async function readLever(client: Client): Promise<Lever | null> {
  try {
    const description = await client.workflow.getHandle(LEVER_WORKFLOW_ID).describe();
    if (description.status.name !== 'RUNNING') return null;
    return asLever(description.memo?.lever);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    throw error;
  }
}

/** A memo anyone could have written (the Temporal CLI, the UI): read defensively. */
function asLever(value: unknown): Lever {
  const lever = (value ?? {}) as Partial<Lever>;
  return {
    by: typeof lever.by === 'string' && lever.by ? lever.by : 'unknown',
    at: typeof lever.at === 'number' ? lever.at : 0,
    reason: typeof lever.reason === 'string' && lever.reason ? lever.reason : 'no reason given',
  };
}

export function leverText(lever: Lever): string {
  const at = new Date(lever.at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  return `the safety lever is engaged by ${lever.by} since ${at}: ${lever.reason}`;
}

/** The note on a schedule the lever paused; release unpauses only schedules still carrying it. */
export function pauseNote(lever: Lever): string {
  return `paused by gameday's safety lever: ${leverText(lever)}`;
}
