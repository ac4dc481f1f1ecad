/**
 * The `gameday` command. Each subcommand lives in its own file, loaded only when it runs (see
 * ./commands); this one maps every way a command can fail to the exit codes (docs/architecture.md) and a message
 * that says what to do.
 */
import { Command, CommanderError, Help } from 'commander';
import { EmbeddedServerError } from '../temporal/embedded-error';
import { nameOf, SUBCOMMANDS, subcommandOf } from './commands';
import { CliError, EXIT } from './exit-codes';
import { fsReason, isFsError } from './output';

const program = new Command('gameday')
  .description('Durable chaos-engineering game days: steady state, faults, guardrails, guaranteed rollback.')
  .version('0.1.0')
  .exitOverride()
  .showHelpAfterError();

try {
  const args = process.argv.slice(2);
  const subcommand = subcommandOf(args);
  if (subcommand) (await subcommand.load())(program);
  else listSubcommands(program);
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = await explain(error);
}
// Open connections (Temporal's native bridge among them) would keep the process alive.
process.exit(process.exitCode ?? 0);

/** For `gameday`, `gameday --help` and a mistyped subcommand: the list, with no module loaded. */
function listSubcommands(program: Command): void {
  for (const subcommand of SUBCOMMANDS) program.command(nameOf(subcommand)).description(subcommand.summary);
  const help = new Help();
  program.configureHelp({
    subcommandTerm: (command) =>
      SUBCOMMANDS.find((subcommand) => nameOf(subcommand) === command.name())?.term ??
      help.subcommandTerm(command),
  });
}

async function explain(error: unknown): Promise<number> {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander; they already printed.
    return error.exitCode === 0 ? 0 : EXIT.invalidInput;
  }
  if (error instanceof CliError) {
    console.error(`gameday: ${error.message}`);
    return error.exitCode;
  }
  // Imported here, not at the top, because these modules load yaml, zod and the Temporal client,
  // which `gameday --help` must not wait for. A command that threw one has loaded its module.
  const { ExperimentError, formatIssue } = await import('../experiment/load');
  const { PlanRefused } = await import('../experiment/plan');
  const { TemporalUnavailable } = await import('../temporal/connection');
  const { RunNotFound } = await import('../temporal/run-status');
  const { RunIdTaken } = await import('../temporal/start-run');

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
  if (isFsError(error)) {
    // A file-system error no command anticipated: still one line that names the path.
    console.error(`gameday: ${error.path ? `${error.path}: ` : ''}${fsReason(error)}`);
    return EXIT.cannotCreate;
  }
  console.error('gameday: unexpected error:', error);
  return EXIT.internal;
}
