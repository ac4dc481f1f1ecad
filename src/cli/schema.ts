/** `gameday schema`: the experiment file's JSON Schema, for editors. */
import type { Command } from 'commander';
import { experimentJsonSchema } from '../experiment/schema';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of experiment files')
    .action(() => {
      console.log(JSON.stringify(experimentJsonSchema(), null, 2));
    });
}
