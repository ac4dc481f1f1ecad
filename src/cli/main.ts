/**
 * The `gameday` command. Each subcommand lives in its own file; this one maps every way a command
 * can fail to DESIGN.md's exit codes and a message that says what to do.
 */
import { Command, CommanderError } from 'commander';
import { ExperimentError, formatIssue } from '../experiment/load';
import { PlanRefused } from '../experiment/plan';
import { TemporalUnavailable } from '../temporal/connection';
import { EmbeddedServerError } from '../temporal/embedded-error';
import { RunNotFound } from '../temporal/run-status';
import { RunIdTaken } from '../temporal/start-run';
import { registerAbort } from './abort';
import { registerApprove } from './approve';
import { CliError, EXIT } from './exit-codes';
import { registerLab } from './lab';
import { registerNote } from './note';
import { fsReason, isFsError } from './output';
import { registerPlan } from './plan';
import { registerReport } from './report';
import { registerRun } from './run';
import { registerRuns } from './runs';
import { registerSchedule } from './schedule';
import { registerSchema } from './schema';
import { registerStatus } from './status';
import { registerValidate } from './validate';
import { registerWorker } from './worker';

const program = new Command('gameday')
  .description('Durable chaos-engineering game days: steady state, faults, guardrails, guaranteed rollback.')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError();

for (const register of [
  registerValidate,
  registerSchema,
  registerPlan,
  registerRun,
  registerWorker,
  registerStatus,
  registerAbort,
  registerReport,
  registerLab,
  registerApprove,
  registerNote,
  registerRuns,
  registerSchedule,
]) {
  register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = explain(error);
}
// Open connections (Temporal's native bridge among them) would keep the process alive.
process.exit(process.exitCode ?? 0);

function explain(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander; they already printed.
    return error.exitCode === 0 ? 0 : EXIT.invalidInput;
  }
  if (error instanceof ExperimentError) {
    for (const issue of error.issues) console.error(formatIssue(issue));
    return EXIT.invalidInput;
  }
  if (error instanceof PlanRefused || error instanceof RunNotFound || error instanceof RunIdTaken) {
    console.error(`gameday: ${error.message}`);
    return EXIT.invalidInput;
  }
  if (error instanceof TemporalUnavailable || error instanceof EmbeddedServerError) {
    console.error(`gameday: ${error.message}`);
    return EXIT.unavailable;
  }
  if (error instanceof CliError) {
    console.error(`gameday: ${error.message}`);
    return error.exitCode;
  }
  if (isFsError(error)) {
    // A file-system error no command anticipated: still one line that names the path.
    console.error(`gameday: ${error.path ? `${error.path}: ` : ''}${fsReason(error)}`);
    return EXIT.cannotCreate;
  }
  console.error('gameday: unexpected error:', error);
  return EXIT.internal;
}
