/**
 * `gameday plan <file>`: the normalized plan of a run, exactly as it would act: phases with scaled
 * durations, the exact toxics, and (resolved for real, read-only) the AWS account, the EC2
 * instances and the FIS actions each fault would touch. Changes nothing.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { webhookHost } from '../../activities/notify';
import { type ResolvedTargets, resolveTargets } from '../../activities/prepare';
import { formatDuration } from '../experiment/duration';
import { formatIssue, issueAt, type LoadedExperiment, loadExperiment } from '../experiment/load';
import { type ProbePlan, planRun, type RunPlan } from '../experiment/plan';
import { checkProbes, throwRefusals } from '../experiment/probe-checks';
import { bodyOf, describeHandle, type FaultHandle, kindOf, probeBodyOf, providerOf } from '../providers';
import { isProviderFailure } from '../providers/fault-provider';
import type { ToxiproxySettingsPlan } from '../providers/faults/toxiproxy';
import { CliError, EXIT } from './exit-codes';

export function registerPlan(program: Command): void {
  program
    .command('plan <file>')
    .description('print what a run would do, with AWS targets resolved for real; changes nothing')
    .option('--id <runId>', 'plan for this run id (toxic names include it)', '<runId>')
    .option('--allow-production', 'plan a production experiment')
    .option('--json', 'print the plan as JSON')
    .action(async (file: string, options: { id: string; allowProduction?: boolean; json?: boolean }) => {
      const loaded = await loadExperiment(file);
      const plan = planRun(loaded.experiment, {
        runId: options.id,
        file: resolve(file),
        sha256: loaded.sha256,
        outDir: resolve('gameday-runs', options.id),
        allowProduction: options.allowProduction,
        validateRunId: false,
      });
      const checked = await checkProbes(loaded, plan);
      throwRefusals(checked);
      if (checked.unreachable.length > 0)
        throw new CliError(checked.unreachable.join('; '), EXIT.unavailable);
      const targets = needsResolving(plan) ? await resolveForPlan(plan, loaded) : null;
      if (options.json) {
        console.log(JSON.stringify({ ...redactHeaders(plan), targets }, null, 2));
      } else {
        console.log(await describePlan(plan, targets));
      }
    });
}

/** Plan reads AWS for real when the run uses it; other providers' targets are what the file says. */
function needsResolving(plan: RunPlan): boolean {
  return plan.aws !== null;
}

/** The same read-only resolution a run does before anything else, with the CLI's credentials. */
async function resolveForPlan(plan: RunPlan, loaded: LoadedExperiment): Promise<ResolvedTargets> {
  try {
    return await resolveTargets(plan);
  } catch (error) {
    const failure = planFailure(error, 'cannot reach AWS to resolve the targets');
    const located =
      isProviderFailure(error) && error.kind === 'refused' ? refusedAt(error.message, plan, loaded) : null;
    throw located ? new CliError(located, EXIT.invalidInput) : failure;
  }
}

/** A refusal that names its fault ("fault F: ..."), at that fault in the file: `file:line:col  path  message`. */
function refusedAt(message: string, plan: RunPlan, loaded: LoadedExperiment): string | null {
  const name = /^fault ([^:\s]+): /.exec(message)?.[1];
  for (const [p, phase] of plan.phases.entries()) {
    const f = phase.faults.findIndex((fault) => fault.name === name);
    const fault = phase.faults[f];
    if (fault) return formatIssue(issueAt(loaded, ['phases', p, 'faults', f, fault.provider], message));
  }
  return null;
}

/** A provider's two failure kinds as the CLI's exit codes: unavailable 69, refused 64. */
function planFailure(error: unknown, unreachable: string): Error {
  if (error instanceof CliError) return error;
  if (isProviderFailure(error) && error.kind === 'unavailable') {
    return new CliError(`${unreachable}: ${error.message}`, EXIT.unavailable);
  }
  return new CliError(`refused: ${(error as Error).message}`, EXIT.invalidInput);
}

export async function describePlan(plan: RunPlan, targets: ResolvedTargets | null): Promise<string> {
  const lines = [
    `experiment ${plan.experiment.name} (${plan.environment}), time scale ${plan.timeScale}`,
    `  ${plan.experiment.description}`,
  ];
  if (plan.aws) {
    lines.push(`aws region ${plan.aws.region}, max blast radius ${plan.maxBlastRadius}%`);
    if (targets?.account) {
      const allowed = plan.aws.accounts
        ? ` (allowed: ${plan.aws.accounts.join(', ')})`
        : ' (no target.accounts allow-list)';
      lines.push(`  account ${targets.account.id} as ${targets.account.arn}${allowed}`);
    }
  }
  const toxiproxy = plan.providers.toxiproxy as ToxiproxySettingsPlan | undefined;
  if (toxiproxy) {
    lines.push(`toxiproxy ${toxiproxy.url}`);
    for (const proxy of toxiproxy.proxies) {
      lines.push(
        `  ensure proxy ${proxy.name}: ${proxy.listen} -> ${proxy.upstream} (created if missing, left in place)`,
      );
    }
  }
  lines.push('steady state (before the faults, and after rollback):');
  for (const probe of plan.steadyState) {
    lines.push(
      `  ${probe.name}: ${probeTarget(probe)} x${probe.sample.count} every ${formatDuration(probe.sample.everyMs)}`,
    );
  }
  if (plan.guardrails.length) lines.push('guardrails (abort on breach):');
  for (const guardrail of plan.guardrails) {
    const when = Object.entries(guardrail.abortWhen)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} >= ${v}`)
      .join(' or ');
    lines.push(
      `  ${guardrail.name}: ${probeTarget(guardrail.probe)} every ${formatDuration(guardrail.everyMs)}, ` +
        `window ${guardrail.window}, abort when ${when}`,
    );
  }
  const resolved = new Map(targets?.resolved.map((h) => [h.name, h]));
  lines.push('phases:');
  for (const [index, phase] of plan.phases.entries()) {
    lines.push(`  ${index + 1}. ${phase.name} for ${formatDuration(phase.durationMs)}`);
    if (phase.gate)
      lines.push(
        `     first wait for \`gameday approve\` (abort after ${formatDuration(phase.gate.timeoutMs)} without one)`,
      );
    for (const fault of phase.faults) {
      lines.push(...(await faultLines(resolved.get(fault.name) ?? fault)));
      const timing = phase.timings?.find((t) => t.fault === fault.name);
      if (timing) {
        const end = timing.durationMs === null ? phase.durationMs : timing.startAfterMs + timing.durationMs;
        lines.push(
          `       in place from +${formatDuration(timing.startAfterMs)} to +${formatDuration(end)} of the phase`,
        );
      }
    }
    for (const expectation of phase.expectations) {
      const during = expectation.window ? ` during ${expectation.window.during}` : '';
      lines.push(`     expect ${expectation.probe.name}${during}: ${JSON.stringify(expectation.tolerance)}`);
    }
    lines.push("     then revert this phase's faults");
  }
  lines.push(`recovery: steady state again within ${formatDuration(plan.recovery.withinMs)} of rollback`);
  for (const service of plan.continuity?.services ?? [])
    lines.push(
      `continuity ${service.name}: RTO ${formatDuration(service.rtoMs)} (SLO ${service.slo.join(', ')}), RPO ${service.rpoMs ? formatDuration(service.rpoMs) : 'no write lost'}${service.writeProbe && service.readBack ? `; ${service.writeProbe}'s acknowledged writes read back with ${service.readBack.method} ${service.readBack.url}` : ''}`,
    );
  for (const step of plan.rollback)
    lines.push(`rollback step ${step.name}: ${step.http.method} ${step.http.url}`);
  lines.push(
    `a revert is retried for ${formatDuration(plan.rollbackTimeoutMs)} before the run ends rollback-failed`,
  );
  if (targets?.lockKeys.length) lines.push(`locks while it runs: ${targets.lockKeys.join(', ')}`);
  for (const [index, webhook] of (plan.notify ?? []).entries())
    lines.push(
      `notify webhook ${index + 1} (${webhook.format}, ${webhookHost(webhook.url)}): ${webhook.events.join(', ')}`,
    );
  return lines.join('\n');
}

async function faultLines(fault: FaultHandle): Promise<string[]> {
  const provider = providerOf(fault);
  try {
    const lines = provider.planLines
      ? await provider.planLines(bodyOf(fault), fault.name)
      : [`${fault.name}: ${describeHandle(fault)}`];
    return lines.map((line) => `     ${line}`);
  } catch (error) {
    throw planFailure(error, `cannot reach ${fault.provider} to plan fault ${fault.name}`);
  }
}

function probeTarget(probe: ProbePlan): string {
  return kindOf(probe).describe(probeBodyOf(probe));
}

function redactHeaders(plan: RunPlan): RunPlan {
  const redact = (probe: ProbePlan): ProbePlan => {
    const kind = kindOf(probe);
    return kind.redact ? ({ ...probe, [probe.kind]: kind.redact(probeBodyOf(probe)) } as ProbePlan) : probe;
  };
  return {
    ...plan,
    steadyState: plan.steadyState.map(redact),
    guardrails: plan.guardrails.map((g) => ({ ...g, probe: redact(g.probe) })),
    phases: plan.phases.map((p) => ({
      ...p,
      expectations: p.expectations.map((e) => ({ ...e, probe: redact(e.probe) })),
    })),
    // A webhook's path and query are its secret; the host says where it goes.
    notify: plan.notify?.map((webhook) => ({
      ...webhook,
      url: `https://${webhookHost(webhook.url)}/<redacted>`,
    })),
  };
}
