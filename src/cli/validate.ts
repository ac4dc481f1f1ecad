/** `gameday validate <file...>`: every problem in every file, as file:line:col  path  message. */
import type { Command } from 'commander';
import { ExperimentError, formatIssue, loadExperiment } from '../experiment/load';
import { EXIT } from './exit-codes';

export function registerValidate(program: Command): void {
  program
    .command('validate <files...>')
    .description('check experiment files; exit 0 when all are valid, 64 otherwise')
    .action(async (files: string[]) => {
      let invalid = 0;
      for (const file of files) {
        try {
          const { experiment } = await loadExperiment(file);
          console.log(`${file}: ok (${experiment.name}, ${experiment.phases.length} phase(s))`);
        } catch (error) {
          if (!(error instanceof ExperimentError)) throw error;
          invalid++;
          for (const issue of error.issues) console.error(formatIssue(issue));
        }
      }
      process.exitCode = invalid > 0 ? EXIT.invalidInput : 0;
    });
}
