/**
 * The plan: an experiment resolved for one run. Durations are milliseconds (phases scaled by
 * timeScale), names of what will be injected are final, and the environment's overrides are
 * applied. The plan is the workflow's input, so it holds plain data only.
 */

import {
  FAULT_PROVIDERS,
  type FaultHandle,
  type FaultProviderName,
  faultProviders,
  PROBE_KINDS,
  type ProbeBody,
  probeKinds,
} from '../providers';
import { type AwsLocationPlan, type AwsLocator, awsLocator } from '../providers/aws-location';
import type { FaultProvider } from '../providers/fault-provider';
import type { ProbeKind, SampleExpect } from '../providers/probe-kind';
import { type HttpRequestPlan, planHttp } from '../providers/probes/http';
import { type ContinuityPlan, planContinuity } from './continuity';
import { parseDuration } from './duration';
import { type ExpectationWindow, type FaultTiming, faultTimings, faultWindow } from './fault-timing';
import { PlanRefused } from './plan-refused';
import type { ReportFormat } from './report-formats';
import {
  type Experiment,
  type Fault,
  type InlineProbe,
  NOTIFY_EVENTS,
  type NotifyEvent,
  type Probe,
  type Tolerance,
} from './schema';

export type { DynamoDbProbePlan } from '../providers/probes/dynamodb';
export type { Ec2FleetProbePlan } from '../providers/probes/ec2-fleet';
export type { HttpRequestPlan } from '../providers/probes/http';

export interface TolerancePlan {
  status?: number[];
  min?: number;
  max?: number;
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  latencyP99Ms?: number;
  errorRate?: number;
  consecutiveFailures?: number;
}

export type { AwsLocationPlan } from '../providers/aws-location';
export { PlanRefused } from './plan-refused';

/**
 * A probe: its name, exactly one kind (`kind: 'http', http: {...}`: what makes one sample a success
 * lives in the kind's own plan), how it is sampled, and what must hold over its samples.
 */
export type ProbePlan = {
  name: string;
  sample: { everyMs: number; count: number };
  tolerance: TolerancePlan;
} & ProbeBody;

export interface AbortWhenPlan {
  errorRate?: number;
  latencyP99Ms?: number;
  consecutiveFailures?: number;
}

export interface GuardrailPlan {
  name: string;
  probe: ProbePlan;
  everyMs: number;
  window: number;
  abortWhen: AbortWhenPlan;
}

export interface ExpectationPlan {
  probe: ProbePlan;
  everyMs: number;
  tolerance: TolerancePlan;
  /** `during: <fault>`: judged only over the fault's planned window; absent: the whole phase. */
  window?: ExpectationWindow;
}

export interface PhasePlan {
  name: string;
  durationMs: number;
  /** Wait for an approval before injecting; absent in runs planned before gates existed. */
  gate?: { timeoutMs: number; onTimeout: 'abort' } | null;
  faults: FaultHandle[];
  /** Faults that start late or end early (startAfter, duration); absent or empty: all last the phase. */
  timings?: FaultTiming[];
  expectations: ExpectationPlan[];
}

export interface RollbackStepPlan {
  name: string;
  http: HttpRequestPlan;
  okStatus: number[] | null;
}

export interface RunPlan {
  runId: string;
  experiment: { name: string; description: string; tags: string[]; file: string; sha256: string };
  environment: 'local' | 'staging' | 'production';
  timeScale: number;
  /** Each provider's run-level settings as the run uses them (settings.toxiproxy: its server and proxies). */
  providers: Partial<Record<FaultProviderName, unknown>>;
  /** Set when any fault or probe talks to AWS: the account is checked with STS before anything runs. */
  aws: { region: string; accounts: string[] | null; sts: AwsLocationPlan } | null;
  maxBlastRadius: number;
  steadyState: ProbePlan[];
  guardrails: GuardrailPlan[];
  phases: PhasePlan[];
  recovery: { withinMs: number };
  rollbackTimeoutMs: number;
  rollback: RollbackStepPlan[];
  /** Absolute directory the journal is written to: `<out>/<runId>`. */
  outDir: string;
  /** Which reports the worker writes beside the journal; absent means all. */
  reports?: ReportFormat[];
  /** Webhooks, their URLs as written (`${GAMEDAY_SECRET_*}` filled in on the worker); absent means none. */
  notify?: WebhookPlan[];
  /** The continuity plan the run is measured against; absent when the file has none. */
  continuity?: ContinuityPlan;
}

export interface WebhookPlan {
  url: string;
  format: 'slack' | 'json';
  events: NotifyEvent[];
}

export interface PlanOptions {
  runId: string;
  file: string;
  sha256: string;
  outDir: string;
  reports?: ReportFormat[];
  allowProduction?: boolean;
  /** `gameday plan` shows a placeholder id; a real run's id must be usable in names. */
  validateRunId?: boolean;
  env?: Record<string, string | undefined>;
}

export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function planRun(experiment: Experiment, options: PlanOptions): RunPlan {
  const env = options.env ?? process.env;
  if (options.validateRunId !== false && !RUN_ID_PATTERN.test(options.runId)) {
    throw new PlanRefused(`run id "${options.runId}" must be letters, digits, '.', '_' or '-' (at most 100)`);
  }
  if (experiment.target.environment === 'production' && !options.allowProduction) {
    throw new PlanRefused(
      `${experiment.name} targets production; pass --allow-production to confirm you mean to inject faults there`,
    );
  }

  const aws = awsLocator(experiment.settings.aws, experiment.target.regions, env);
  const settingsOf = (key: FaultProviderName): unknown =>
    (experiment.settings as Record<string, unknown>)[key];

  const probes = new Map(experiment.steadyState.map((probe) => [probe.name, planProbe(probe, aws)]));
  const probeNamed = (name: string): ProbePlan => {
    const probe = probes.get(name);
    if (!probe) throw new PlanRefused(`no steadyState probe is named "${name}"`);
    return probe;
  };

  return {
    runId: options.runId,
    experiment: {
      name: experiment.name,
      description: experiment.description,
      tags: experiment.tags,
      file: options.file,
      sha256: options.sha256,
    },
    environment: experiment.target.environment,
    timeScale: experiment.timeScale,
    providers: providerSettings(experiment, settingsOf, {
      runId: options.runId,
      env,
      settings: undefined,
      aws,
    }),
    steadyState: [...probes.values()],
    guardrails: experiment.guardrails.map((guardrail) => ({
      name: guardrail.name,
      probe:
        typeof guardrail.probe === 'string'
          ? probeNamed(guardrail.probe)
          : planInlineProbe(`guardrail-${guardrail.name}`, guardrail.probe, aws),
      everyMs: parseDuration(guardrail.every),
      window: guardrail.window,
      abortWhen: {
        errorRate: guardrail.abortWhen.errorRate,
        latencyP99Ms: optionalDuration(guardrail.abortWhen.latencyP99),
        consecutiveFailures: guardrail.abortWhen.consecutiveFailures,
      },
    })),
    phases: experiment.phases.map((phase) => {
      const durationMs = Math.max(1, Math.round(parseDuration(phase.duration) * experiment.timeScale));
      const timings = faultTimings(phase.faults, experiment.timeScale);
      return {
        name: phase.name,
        durationMs,
        gate: phase.gate
          ? { timeoutMs: parseDuration(phase.gate.timeout), onTimeout: phase.gate.onTimeout }
          : null,
        faults: phase.faults.map((fault) =>
          planFault(fault, phase.name, { runId: options.runId, env, aws, settingsOf }),
        ),
        // Only where the file times a fault: plans without timings stay what they were.
        ...(timings.length > 0 ? { timings } : {}),
        expectations: phase.expect.map((expectation) => {
          const probe = probeNamed(expectation.probe);
          return {
            probe,
            everyMs: expectation.every ? parseDuration(expectation.every) : probe.sample.everyMs,
            tolerance: planTolerance(expectation.expect),
            ...(expectation.during ? { window: faultWindow(expectation.during, timings, durationMs) } : {}),
          };
        }),
      };
    }),
    recovery: { withinMs: parseDuration(experiment.recovery.within) },
    // After the probes and faults: whether the run needs AWS at all depends on what they use.
    aws: aws.used()
      ? { region: aws.region(), accounts: experiment.target.accounts ?? null, sts: aws.location('sts') }
      : null,
    maxBlastRadius: experiment.target.maxBlastRadius,
    rollbackTimeoutMs: parseDuration(experiment.settings.rollbackTimeout),
    rollback: experiment.rollback.map((step) => ({
      name: step.name,
      http: planHttp(step.http) as HttpRequestPlan,
      okStatus: step.expect?.status ?? null,
    })),
    outDir: options.outDir,
    reports: options.reports,
    notify: experiment.notify.map((webhook) => ({
      url: webhook.url,
      format: webhook.format,
      events: webhook.events ?? [...NOTIFY_EVENTS],
    })),
    ...(experiment.continuity ? { continuity: planContinuity(experiment.continuity) } : {}),
  };
}

/** The provider's run-level settings, for each provider that has them and is used or configured. */
function providerSettings(
  experiment: Experiment,
  settingsOf: (key: FaultProviderName) => unknown,
  ctx: { runId: string; env: Record<string, string | undefined>; settings: unknown; aws: AwsLocator },
): RunPlan['providers'] {
  const planned: RunPlan['providers'] = {};
  for (const key of FAULT_PROVIDERS) {
    const provider: FaultProvider = faultProviders[key];
    if (!provider.settings) continue;
    const used = experiment.phases.some((p) => p.faults.some((f) => f[key] !== undefined));
    const settings = provider.settings.plan(settingsOf(key), used, ctx);
    if (settings !== null && settings !== undefined) planned[key] = settings;
  }
  return planned;
}

function planFault(
  fault: Fault,
  phase: string,
  ctx: {
    runId: string;
    env: Record<string, string | undefined>;
    aws: AwsLocator;
    settingsOf: (key: FaultProviderName) => unknown;
  },
): FaultHandle {
  const key = FAULT_PROVIDERS.find((name) => fault[name] !== undefined);
  if (!key) throw new PlanRefused(`fault ${fault.name} names no provider`);
  const provider: FaultProvider = faultProviders[key];
  const body = provider.plan(fault[key], {
    runId: ctx.runId,
    fault: fault.name,
    env: ctx.env,
    settings: ctx.settingsOf(key),
    aws: ctx.aws,
  });
  return { name: fault.name, phase, provider: key, [key]: body } as FaultHandle;
}

function planProbe(probe: Probe, aws: AwsLocator): ProbePlan {
  return {
    name: probe.name,
    ...probeKind(probe.name, probe, aws, probe.expect),
    sample: { everyMs: parseDuration(probe.sample.every), count: probe.sample.count },
    tolerance: planTolerance(probe.expect),
  };
}

function planInlineProbe(name: string, probe: InlineProbe, aws: AwsLocator): ProbePlan {
  return {
    name,
    ...probeKind(name, probe, aws, probe.expect),
    sample: { everyMs: 1_000, count: 1 },
    tolerance: {},
  };
}

function probeKind(
  name: string,
  probe: Partial<Record<(typeof PROBE_KINDS)[number], unknown>>,
  aws: AwsLocator,
  expect: SampleExpect | undefined,
): ProbeBody {
  const key = PROBE_KINDS.find((kind) => probe[kind] !== undefined);
  if (!key) throw new PlanRefused(`probe ${name} names no probe kind`);
  const kind: ProbeKind = probeKinds[key];
  return { kind: key, [key]: kind.plan(probe[key], { aws }, expect) } as ProbeBody;
}

function planTolerance(tolerance: Tolerance): TolerancePlan {
  return dropUndefined({
    status: tolerance.status,
    min: tolerance.min,
    max: tolerance.max,
    latencyP50Ms: optionalDuration(tolerance.latencyP50),
    latencyP95Ms: optionalDuration(tolerance.latencyP95),
    latencyP99Ms: optionalDuration(tolerance.latencyP99),
    errorRate: tolerance.errorRate,
    consecutiveFailures: tolerance.consecutiveFailures,
  });
}

function optionalDuration(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDuration(text);
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
