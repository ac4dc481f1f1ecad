/** `gameday lab up|down|status|env`: the October 20 lab on this machine. */
import type { Command } from 'commander';
import { parseDuration } from '../experiment/duration';
import { isBuildName } from '../lab/builds';
import { DEFAULT_LAB_HOME, LabError, labDown, labEnv, labStatus, labUp, readLab } from '../lab/lab';
import { CliError, EXIT } from './exit-codes';
import { checkWritableDirectory } from './output';

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('the October 20 lab: orders service, fleet, autoscaler, load balancer');

  lab
    .command('up')
    .description('start the lab in the background and print its endpoints')
    .option('--build <build>', 'fragile, hardened or multi-region', 'fragile')
    .option('--size <n>', 'how many orders instances the autoscaler keeps', '4')
    .option('--home <dir>', 'where the lab keeps its state and log', DEFAULT_LAB_HOME)
    .option(
      '--replication-lag <duration>',
      'multi-region: how long a write takes to reach the other region (2s)',
    )
    .action(async (options: { build: string; size: string; home: string; replicationLag?: string }) => {
      if (!isBuildName(options.build))
        throw new CliError(`--build ${options.build}: fragile, hardened or multi-region`, EXIT.invalidInput);
      const replicationLagMs = replicationLag(options.build, options.replicationLag);
      const size = Number(options.size);
      if (!Number.isInteger(size) || size < 1 || size > 20)
        throw new CliError('--size: a whole number from 1 to 20', EXIT.invalidInput);
      await checkWritableDirectory(options.home);
      try {
        const info = await labUp({ home: options.home, build: options.build, size, replicationLagMs });
        console.log(`lab up: ${info.build} build, ${info.size} orders instances (log: ${info.home}/lab.log)`);
        for (const [name, url] of Object.entries(info.endpoints)) console.log(`  ${name.padEnd(10)} ${url}`);
        for (const [name, listen] of Object.entries(info.proxies))
          console.log(`  proxy ${name.padEnd(16)} ${listen}`);
        if (info.secondRegion)
          console.log(
            `  ${info.secondRegion.name}  dynamodb ${info.secondRegion.dynamodb}, proxy dynamodb-us-west-2 ${info.secondRegion.proxy}, replication lag ${info.secondRegion.replicationLagMs}ms`,
          );
        console.log(
          `run its experiments with: eval "$(gameday lab env)"; gameday run --local experiments/oct20/replay.yaml`,
        );
      } catch (error) {
        if (error instanceof LabError) throw new CliError(error.message, EXIT.unavailable);
        throw error;
      }
    });

  lab
    .command('down')
    .description('stop the lab; no process of it is left')
    .option('--home <dir>', 'the lab home', DEFAULT_LAB_HOME)
    .action(async (options: { home: string }) => {
      const { stopped, killed } = await labDown({ home: options.home });
      if (!stopped) console.log('no lab is up there');
      else console.log(killed.length ? `lab down (had to kill ${killed.join(', ')})` : 'lab down');
    });

  lab
    .command('status')
    .description('the fleet, the load balancer targets and the autoscaler')
    .option('--home <dir>', 'the lab home', DEFAULT_LAB_HOME)
    .option('--json', 'as JSON')
    .action(async (options: { home: string; json?: boolean }) => {
      const info = await requireLab(options.home);
      const status = (await labStatus(info)) as {
        build: string;
        fleet: { id: string; networked: boolean }[];
        targets: { id: string; healthy: boolean }[];
        autoscaler: Record<string, number>;
      };
      if (options.json) {
        console.log(JSON.stringify({ ...info, status }, null, 2));
        return;
      }
      console.log(`${status.build} build at ${info.endpoints.orders}`);
      for (const target of status.targets) {
        const member = status.fleet.find((m) => m.id === target.id);
        const network = member ? (member.networked ? 'networked' : 'NO NETWORK YET') : 'no process';
        console.log(`  ${target.id}  ${target.healthy ? 'healthy' : 'UNHEALTHY'}  ${network}`);
      }
      console.log(`  autoscaler ${JSON.stringify(status.autoscaler)}`);
    });

  lab
    .command('env')
    .description('print the environment that points gameday and experiments/oct20 at the lab')
    .option('--home <dir>', 'the lab home', DEFAULT_LAB_HOME)
    .action(async (options: { home: string }) => {
      const info = await requireLab(options.home);
      for (const [name, value] of Object.entries(labEnv(info))) console.log(`export ${name}=${value}`);
    });
}

function replicationLag(build: string, lag: string | undefined): number | undefined {
  if (lag === undefined) return undefined;
  if (build !== 'multi-region')
    throw new CliError(
      '--replication-lag: only the multi-region build has a second region',
      EXIT.invalidInput,
    );
  try {
    return parseDuration(lag);
  } catch (error) {
    throw new CliError(`--replication-lag: ${(error as Error).message}`, EXIT.invalidInput);
  }
}

async function requireLab(home: string) {
  const info = await readLab(home);
  if (!info) throw new CliError(`no lab is up in ${home}: gameday lab up`, EXIT.unavailable);
  return info;
}
