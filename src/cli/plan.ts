/** `gameday plan <file>`: the normalized plan of a run, exactly as it would act. Changes nothing. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatDuration } from '../experiment/duration';
import { loadExperiment } from '../experiment/load';
import { planRun, type RunPlan } from '../experiment/plan';

export function registerPlan(program: Command): void {
  program
    .command('plan <file>')
    .description('print what a run would do: phases with scaled durations, the exact toxics; changes nothing')
    .option('--id <runId>', 'plan for this run id (toxic names include it)', '<runId>')
    .option('--allow-production', 'plan a production experiment')
    .option('--json', 'print the plan as JSON')
    .action(async (file: string, options: { id: string; allowProduction?: boolean; json?: boolean }) => {
      const loaded = await loadExperiment(file);
      const runId = options.id;
      const plan = planRun(loaded.experiment, {
        runId,
        file: resolve(file),
        sha256: loaded.sha256,
        outDir: resolve('gameday-runs', runId),
        validateRunId: false,
        allowProduction: options.allowProduction,
      });
      console.log(options.json ? JSON.stringify(redactHeaders(plan), null, 2) : describePlan(plan));
    });
}

export function describePlan(plan: RunPlan): string {
  const lines = [
    `experiment ${plan.experiment.name} (${plan.environment}), time scale ${plan.timeScale}`,
    `  ${plan.experiment.description}`,
  ];
  if (plan.toxiproxy) {
    lines.push(`toxiproxy ${plan.toxiproxy.url}`);
    for (const proxy of plan.toxiproxy.proxies) {
      lines.push(
        `  ensure proxy ${proxy.name}: ${proxy.listen} -> ${proxy.upstream} (created if missing, left in place)`,
      );
    }
  }
  lines.push('steady state (before the faults, and after rollback):');
  for (const probe of plan.steadyState) {
    lines.push(
      `  ${probe.name}: ${probe.http.method} ${probe.http.url} x${probe.sample.count} every ${formatDuration(probe.sample.everyMs)}`,
    );
  }
  if (plan.guardrails.length) lines.push('guardrails (abort on breach):');
  for (const guardrail of plan.guardrails) {
    const when = Object.entries(guardrail.abortWhen)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} >= ${v}`)
      .join(' or ');
    lines.push(
      `  ${guardrail.name}: ${guardrail.probe.http.url} every ${formatDuration(guardrail.everyMs)}, window ${guardrail.window}, abort when ${when}`,
    );
  }
  lines.push('phases:');
  for (const [index, phase] of plan.phases.entries()) {
    lines.push(`  ${index + 1}. ${phase.name} for ${formatDuration(phase.durationMs)}`);
    for (const fault of phase.faults) {
      const t = fault.toxiproxy;
      lines.push(
        t.action === 'down'
          ? `     ${fault.name}: disable proxy ${t.proxy}`
          : `     ${fault.name}: add toxic ${t.toxic.name} to proxy ${t.proxy}: ${t.toxic.type} ${t.toxic.stream} ` +
              `toxicity ${t.toxic.toxicity} ${JSON.stringify(t.toxic.attributes)}`,
      );
    }
    for (const expectation of phase.expectations) {
      lines.push(`     expect ${expectation.probe.name}: ${JSON.stringify(expectation.tolerance)}`);
    }
    lines.push("     then revert this phase's faults");
  }
  lines.push(`recovery: steady state again within ${formatDuration(plan.recovery.withinMs)} of rollback`);
  for (const step of plan.rollback)
    lines.push(`rollback step ${step.name}: ${step.http.method} ${step.http.url}`);
  lines.push(
    `a revert is retried for ${formatDuration(plan.rollbackTimeoutMs)} before the run ends rollback-failed`,
  );
  return lines.join('\n');
}

function redactHeaders(plan: RunPlan): RunPlan {
  const redact = <T extends { http: { headers?: Record<string, string> } }>(item: T): T =>
    item.http.headers
      ? {
          ...item,
          http: {
            ...item.http,
            headers: Object.fromEntries(Object.keys(item.http.headers).map((k) => [k, '<redacted>'])),
          },
        }
      : item;
  return {
    ...plan,
    steadyState: plan.steadyState.map(redact),
    guardrails: plan.guardrails.map((g) => ({ ...g, probe: redact(g.probe) })),
    phases: plan.phases.map((p) => ({
      ...p,
      expectations: p.expectations.map((e) => ({ ...e, probe: redact(e.probe) })),
    })),
    rollback: plan.rollback.map(redact),
  };
}
