/**
 * `gameday sweep`: the faults gameday left behind whose run is gone (the Temporal database lost,
 * a run terminated by hand), listed; with --apply, reverted.
 */
import type { Command } from 'commander';
import pc from 'picocolors';
import type { MarkedFault } from '../sweep/marks';
import { SweepRefused, sweepSources } from '../sweep/sources';
import { type SweepResult, sweep } from '../sweep/sweep';
import { connectClient, temporalTarget } from '../temporal/connection';
import { CliError, EXIT } from './exit-codes';

interface SweepOptions {
  toxiproxy?: string;
  aws?: boolean;
  apply?: boolean;
  json?: boolean;
}

export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description("find gameday's faults whose run is gone (dry run); --apply reverts them")
    .option(
      '--toxiproxy <url>',
      'the Toxiproxy server to look at (default: TOXIPROXY_URL, or 127.0.0.1:8474 without --aws)',
    )
    .option(
      '--aws',
      'look at EC2 instances and FIS experiments too (AWS_REGION; AWS_ENDPOINT_URL for emulators)',
    )
    .option('--apply', 'revert what it finds; without it nothing changes')
    .option('--json', 'print what it found (and did) as JSON')
    .action(async (options: SweepOptions) => {
      let sources: ReturnType<typeof sweepSources>;
      try {
        sources = sweepSources(options);
      } catch (error) {
        if (error instanceof SweepRefused) throw new CliError(error.message, EXIT.invalidInput);
        throw error;
      }
      const client = await connectClient(temporalTarget());
      const result = await sweep(client, sources, { apply: Boolean(options.apply) });
      if (options.json) console.log(JSON.stringify(asJson(result), null, 2));
      else print(result, Boolean(options.apply));
      if (result.orphaned.some((swept) => swept.outcome && !swept.outcome.ok))
        throw new CliError('some faults could not be reverted: they are still in place', EXIT.rollbackFailed);
      if (result.unreadable.length > 0)
        throw new CliError(
          `could not look at ${result.unreadable.map((u) => `${u.source} (${u.error})`).join('; ')}`,
          EXIT.unavailable,
        );
    });
}

const line = (fault: MarkedFault) =>
  `${fault.what}: run ${fault.runId}${fault.fault ? `, fault ${fault.fault}` : ''}`;

function print(result: SweepResult, apply: boolean): void {
  for (const { fault, outcome } of result.orphaned) {
    if (!outcome) console.log(`orphaned: ${line(fault)}`);
    else if (outcome.ok) console.log(`reverted: ${line(fault)}: ${outcome.did}`);
    else console.log(pc.bold(pc.red(`STILL INJECTED: ${line(fault)}: ${outcome.error}`)));
  }
  for (const fault of result.live) console.log(pc.dim(`live, left alone: ${line(fault)}`));
  const count = result.orphaned.length;
  if (count === 0) console.log('no orphaned gameday faults');
  else if (!apply)
    console.log(`${count} orphaned fault(s); nothing changed. \`gameday sweep --apply\` reverts them`);
}

function asJson(result: SweepResult) {
  const plain = ({ provider, runId, fault, target, what }: MarkedFault) => ({
    provider,
    runId,
    fault,
    target,
    what,
  });
  return {
    orphaned: result.orphaned.map(({ fault, outcome }) => ({
      ...plain(fault),
      ...(outcome ? { outcome } : {}),
    })),
    live: result.live.map(plain),
    unreadable: result.unreadable,
  };
}
