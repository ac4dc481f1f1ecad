/** Exit codes (docs/architecture.md, "Run lifecycle and verdicts"): a verdict's code, or why nothing ran (sysexits.h values). */
import type { Verdict } from '../report/journal';

export const EXIT = {
  passed: 0,
  deviated: 1,
  aborted: 2,
  rollbackFailed: 3,
  notStarted: 4,
  /** Temporal went away during the run: how it ends is unknown here; what may be injected is printed. */
  lost: 5,
  invalidInput: 64,
  unavailable: 69,
  internal: 70,
  /** An output file or directory could not be written (sysexits CANTCREAT). */
  cannotCreate: 73,
  /** Try again later (sysexits TEMPFAIL): the experiment is locked by a run in progress. */
  locked: 75,
  /** Try again later: the safety lever is engaged (`gameday lever status` says by whom and why). */
  leverEngaged: 75,
  interrupted: 130,
} as const;

export function exitCodeFor(verdict: Verdict, refused: 'unavailable' | 'invalid-target' | null): number {
  if (refused === 'unavailable') return EXIT.unavailable;
  if (refused === 'invalid-target') return EXIT.invalidInput;
  switch (verdict) {
    case 'passed':
      return EXIT.passed;
    case 'deviated':
      return EXIT.deviated;
    case 'aborted':
      return EXIT.aborted;
    case 'rollback-failed':
      return EXIT.rollbackFailed;
    case 'not-started':
      return EXIT.notStarted;
  }
}

/** An error that ends the command with a given exit code and a message for the user. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
