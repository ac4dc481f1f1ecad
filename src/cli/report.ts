/** `gameday report <journal.json>`: re-render a journal. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Journal } from '../report/journal';
import { renderMarkdown } from '../report/markdown';
import { CliError, EXIT } from './exit-codes';

export function registerReport(program: Command): void {
  program
    .command('report <journal>')
    .description('render a journal as a report on stdout')
    .option('--format <format>', 'md (html and junit come with the reports issue)', 'md')
    .action(async (file: string, options: { format: string }) => {
      if (options.format !== 'md')
        throw new CliError(`--format ${options.format} is not supported yet; use md`, EXIT.invalidInput);
      let data: unknown;
      try {
        data = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        throw new CliError(`${file}: cannot read a journal: ${(error as Error).message}`, EXIT.invalidInput);
      }
      const parsed = Journal.safeParse(data);
      if (!parsed.success) {
        const first = parsed.error.issues[0];
        throw new CliError(
          `${file}: not a gameday journal: ${first?.path.join('.')} ${first?.message}`,
          EXIT.invalidInput,
        );
      }
      process.stdout.write(renderMarkdown(parsed.data));
    });
}
