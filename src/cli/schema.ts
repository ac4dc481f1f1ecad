/** `gameday schema`: the experiment file's JSON Schema, for editors. */
import type { Command } from 'commander';
import { experimentJsonSchema } from '../experiment/schema';
import { writeStdout } from './output';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of experiment files')
    .action(async () => {
      await writeStdout(`${JSON.stringify(experimentJsonSchema(), null, 2)}\n`);
    });
}
