/**
 * Every subcommand: the line `gameday --help` lists it with, and the module that defines it.
 * `gameday X` loads X's module only: the others bring the Temporal worker (its native bridge and
 * webpack) and the AWS SDK, which cost `validate` and `--help` seconds they do not need. A new
 * subcommand is a file with its `registerX(program)` and a line here;
 * test/unit/cli-commands.test.ts checks each line against what its module registers.
 */
import type { Command } from 'commander';

export interface Subcommand {
  /** Name, `[options]` if it has any, and arguments: the left column of `gameday --help`. */
  term: string;
  /** The module's `.description(...)`. */
  summary: string;
  load(): Promise<(program: Command) => void>;
}

export const SUBCOMMANDS: Subcommand[] = [
  {
    term: 'validate <files...>',
    summary: 'check experiment files; exit 0 when all are valid, 64 otherwise',
    load: async () => (await import('./validate')).registerValidate,
  },
  {
    term: 'schema',
    summary: 'print the JSON Schema of experiment files',
    load: async () => (await import('./schema')).registerSchema,
  },
  {
    term: 'plan [options] <file>',
    summary: 'print what a run would do, with AWS targets resolved for real; changes nothing',
    load: async () => (await import('./plan')).registerPlan,
  },
  {
    term: 'run [options] <file>',
    summary:
      'run an experiment to its verdict (exit 0 passed, 1 deviated, 2 aborted, 3 rollback-failed, 4 not-started)',
    load: async () => (await import('./run')).registerRun,
  },
  {
    term: 'worker [options]',
    summary: `run a worker on task queue ${process.env.GAMEDAY_TASK_QUEUE || 'gameday'} until SIGINT or SIGTERM`,
    load: async () => (await import('./worker')).registerWorker,
  },
  {
    term: 'status [options] [runId]',
    summary:
      'show a run: stage, phase, time left, faults, what it waits for, latest probe figures; and the safety lever',
    load: async () => (await import('./status')).registerStatus,
  },
  {
    term: 'abort [options] <runId>',
    summary: 'abort a run: it reverts every fault, then ends with verdict aborted',
    load: async () => (await import('./abort')).registerAbort,
  },
  {
    term: 'lever',
    summary: 'the safety lever: abort every run, pause every schedule, refuse new runs until released',
    load: async () => (await import('./lever')).registerLever,
  },
  {
    term: 'sweep [options]',
    summary: "find gameday's faults whose run is gone (dry run); --apply reverts them",
    load: async () => (await import('./sweep')).registerSweep,
  },
  {
    term: 'report [options] [journal]',
    summary: 'render a journal as a report, or with --trend DIR every journal under DIR as one trend page',
    load: async () => (await import('./report')).registerReport,
  },
  {
    term: 'lab',
    summary: 'the October 20 lab: orders service, fleet, autoscaler, load balancer',
    load: async () => (await import('./lab')).registerLab,
  },
  {
    term: 'approve [options] <runId>',
    summary: "approve the gate a run waits at: it injects that phase's faults next",
    load: async () => (await import('./approve')).registerApprove,
  },
  {
    term: 'note [options] <runId> <text>',
    summary: 'add a timestamped observer note to a running run; it appears in the journal and reports',
    load: async () => (await import('./note')).registerNote,
  },
  {
    term: 'runs [options]',
    summary: 'list recent and running runs, newest first, with their stage or verdict',
    load: async () => (await import('./runs')).registerRuns,
  },
  {
    term: 'schedule',
    summary:
      'game days on a Temporal Schedule: create, list, describe, pause, unpause, trigger, update, delete',
    load: async () => (await import('./schedule')).registerSchedule,
  },
];

export const nameOf = (subcommand: Subcommand): string => subcommand.term.split(' ')[0] ?? '';

/**
 * The subcommand a command line runs: its first word (gameday's own options, -h and -V, take no
 * value), or the word after `help`. Undefined for `gameday`, `gameday --help` and a typo.
 */
export function subcommandOf(args: string[]): Subcommand | undefined {
  const word = args[0] === 'help' ? args[1] : args[0];
  return SUBCOMMANDS.find((subcommand) => nameOf(subcommand) === word);
}
