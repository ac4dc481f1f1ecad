/**
 * `gameday --help` lists the subcommands from src/cli/commands.ts without loading them; each line
 * there must say what the subcommand's own module registers, and no subcommand may be missing.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { nameOf, SUBCOMMANDS, subcommandOf } from '../../src/cli/commands';
import { PROJECT_ROOT } from '../../src/tools';

describe('the subcommand table', () => {
  it.each(SUBCOMMANDS.map((subcommand) => [nameOf(subcommand), subcommand] as const))(
    '%s: its line in the list is what its module registers',
    async (_name, subcommand) => {
      const program = new Command('gameday');
      (await subcommand.load())(program);
      expect(program.commands).toHaveLength(1);
      const [command] = program.commands as [Command];
      expect(subcommand.term).toBe(new Help().subcommandTerm(command));
      expect(subcommand.summary).toBe(command.description());
    },
  );

  it('lists every module under src/cli that registers a subcommand', async () => {
    const dir = join(PROJECT_ROOT, 'src/cli');
    const registering: string[] = [];
    for (const file of await readdir(dir)) {
      if (/export function register\w+\(program: Command\)/.test(await readFile(join(dir, file), 'utf8')))
        registering.push(file);
    }
    expect(registering.length).toBeGreaterThan(10);
    expect(SUBCOMMANDS).toHaveLength(registering.length);
  });

  it('finds the subcommand a command line names, and none for help or a typo', () => {
    expect(subcommandOf(['validate', 'x.yaml'])?.term).toBe('validate <files...>');
    expect(subcommandOf(['help', 'lab'])?.term).toBe('lab');
    expect(subcommandOf(['lab', 'up', '--size', '2'])?.term).toBe('lab');
    expect(subcommandOf([])).toBeUndefined();
    expect(subcommandOf(['--help'])).toBeUndefined();
    expect(subcommandOf(['--help', 'validate'])).toBeUndefined();
    expect(subcommandOf(['help'])).toBeUndefined();
    expect(subcommandOf(['valdate'])).toBeUndefined();
  });
});
