/**
 * The experiment file contract (README "Experiment files"; docs/architecture.md, "The provider
 * seam"), as zod schemas. These are the single source of the
 * experiment types and of `gameday schema`'s JSON Schema. Every object is strict: an unknown key
 * is an error, because a misspelt `abortWhen` silently ignored is a guardrail that never fires.
 */

import { z } from 'zod';
import {
  type FaultProviderName,
  faultSpecKeys,
  PROBE_KINDS as PROBE_KIND_NAMES,
  FAULT_PROVIDERS as PROVIDER_NAMES,
  type ProbeKindName,
  probeSpecKeys,
  providerSettingsKeys,
} from '../providers';
import { AwsRegion, AwsSettings } from './aws-schema';
import { Continuity } from './continuity';
import { HttpRequest } from './http-schema';
import { Duration, DurationText, Fraction, Name, PositiveInt } from './primitives';
import { MAX_PROBE_RATE, MAX_PROBES, PROBE_RATE_DEFAULT, PROBES_MESSAGE, SamplingInterval } from './sampling';
import { forbiddenVariables, SECRET_MESSAGE, SECRET_PREFIX, withoutSecrets } from './worker-secrets';

export { HttpRequest } from './http-schema';
export { Duration, Name } from './primitives';

// ---------------------------------------------------------------------------------------------
// Probes

export const Tolerance = z
  .strictObject({
    status: z
      .array(z.number().int().min(100).max(599))
      .min(1)
      .optional()
      .describe('Statuses that count as success (default 200-399)'),
    latencyP50: Duration.optional(),
    latencyP95: Duration.optional(),
    latencyP99: Duration.optional(),
    errorRate: Fraction.optional().describe('Highest fraction of failed samples that still holds'),
    consecutiveFailures: PositiveInt.optional().describe('Longest run of failed samples that still holds'),
    min: z.number().int().min(0).optional().describe('ec2Fleet: fewest instances that still holds'),
    max: z.number().int().min(0).optional().describe('ec2Fleet: most instances that still holds'),
  })
  .describe('What must hold over the samples: each measured value at most the given one (min: at least)');

export const Sampling = z.strictObject({
  every: SamplingInterval,
  count: PositiveInt.max(10_000),
});

/** How a probe reaches the system. Exactly one kind per probe; the keys come from the registry. */
const probeKinds = probeSpecKeys;
export const PROBE_KINDS = PROBE_KIND_NAMES;
export type ProbeKind = ProbeKindName;

export const InlineProbe = z
  .strictObject({
    ...probeKinds,
    expect: Tolerance.pick({ status: true, min: true, max: true }).strict().optional(),
  })
  .describe('A probe defined in place: one probe kind, and what makes one sample a success');

export const Probe = z
  .strictObject({
    name: Name,
    ...probeKinds,
    sample: Sampling.default({ every: '500ms', count: 10 }),
    expect: Tolerance.default({}),
  })
  .describe('A steady-state probe: sampled `count` times, `every` apart; the tolerance must hold');

export const AbortWhen = z
  .strictObject({
    errorRate: Fraction.optional().describe('Abort when the failed fraction of the window reaches this'),
    latencyP99: Duration.optional().describe("Abort when the window's p99 latency reaches this"),
    consecutiveFailures: PositiveInt.max(10_000)
      .optional()
      .describe('Abort after this many failed samples in a row'),
  })
  .refine(
    (a) => Object.values(a).some((v) => v !== undefined),
    'name at least one of errorRate, latencyP99, consecutiveFailures',
  );

export const Guardrail = z.strictObject({
  name: Name,
  probe: z.union([Name, InlineProbe]).describe('A steadyState probe by name, or an inline probe'),
  every: SamplingInterval,
  window: PositiveInt.max(10_000)
    .default(5)
    .describe('How many of the latest samples errorRate and latencyP99 look at'),
  abortWhen: AbortWhen,
});

// ---------------------------------------------------------------------------------------------
// Faults

/** Exactly one provider per fault; the keys come from the provider registry (src/providers). */
export const FAULT_PROVIDERS = PROVIDER_NAMES;
export type FaultProvider = FaultProviderName;

export const Fault = z.strictObject({
  name: Name,
  ...faultSpecKeys,
  startAfter: DurationText.optional().describe(
    'Inject this long into the phase, × timeScale (default: at its start); FIS actions have the same',
  ),
  duration: DurationText.optional().describe(
    'Revert after this long in place, × timeScale (default: when the phase ends); within the phase',
  ),
});

export const PhaseExpectation = z.strictObject({
  probe: Name.describe('A steadyState probe by name'),
  expect: Tolerance,
  every: SamplingInterval.optional().describe(
    "How often to sample during the phase (default: the probe's sample.every)",
  ),
  during: Name.optional().describe(
    'Judge only while this fault of the phase is planned to be in place (its startAfter and duration)',
  ),
});

export const Gate = z
  .strictObject({
    approval: z.literal('required'),
    timeout: Duration.default('15m').describe('How long to wait for an approval (not scaled by timeScale)'),
    onTimeout: z
      .literal('abort')
      .default('abort')
      .describe('Nobody approved in time: the run aborts and rolls back'),
  })
  .describe("Wait for `gameday approve <runId>` before injecting this phase's faults");

export const Phase = z.strictObject({
  name: Name,
  duration: DurationText.describe('How long the faults stay in place, × timeScale; at most 168h (7 days)'),
  gate: Gate.optional(),
  faults: z.array(Fault).default([]),
  expect: z
    .array(PhaseExpectation)
    .max(MAX_PROBES, PROBES_MESSAGE)
    .default([])
    .describe('Recorded hypothesis checks during the phase; they do not abort'),
});

export const RollbackStep = z.strictObject({
  name: Name,
  http: HttpRequest,
  expect: Tolerance.pick({ status: true }).strict().optional(),
});

// ---------------------------------------------------------------------------------------------
// The experiment

export const NOTIFY_EVENTS = [
  'run-started',
  'gate-waiting',
  'guardrail-breach',
  'aborted',
  'finished',
  'rollback-failed',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

function hasUserInfo(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const { username, password } = new URL(url);
  return Boolean(username || password);
}

export const Webhook = z.strictObject({
  url: z
    .string()
    .refine((url) => URL.canParse(withoutSecrets(url)) && /^https?:\/\//.test(url), {
      message: `an http(s) URL; write secret parts as $\{${SECRET_PREFIX}NAME}, read from the worker environment`,
    })
    .refine((url) => forbiddenVariables(url).length === 0, SECRET_MESSAGE)
    .refine((url) => !hasUserInfo(withoutSecrets(url)), {
      message:
        'no user:password@ in a webhook URL (fetch refuses to send one): put the secret in the path or query',
    }),
  format: z
    .enum(['slack', 'json'])
    .default('json')
    .describe('slack: {"text": ...}; json: the event as an object'),
  events: z.array(z.enum(NOTIFY_EVENTS)).min(1).optional().describe('Which events to send (default: all)'),
});

export const Experiment = z.strictObject({
  version: z.literal(1),
  name: Name.describe('The experiment name; also the lock key'),
  description: z.string().min(1),
  tags: z.array(z.string()).default([]),
  target: z.strictObject({
    environment: z.enum(['local', 'staging', 'production']),
    accounts: z
      .array(z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id'))
      .min(1)
      .optional()
      .describe('The only AWS accounts this experiment may touch, checked with STS before anything runs'),
    regions: z.array(AwsRegion).min(1).optional().describe('The only AWS regions this experiment may touch'),
    maxBlastRadius: z
      .number()
      .gt(0)
      .max(100)
      .default(50)
      .describe('Largest share (percent) of matching instances or resources one fault may select'),
  }),
  timeScale: z.number().positive().max(1000).default(1).describe('Multiplies every phase duration'),
  settings: z
    .strictObject({
      ...providerSettingsKeys,
      aws: AwsSettings.optional(),
      rollbackTimeout: Duration.default('10m').describe(
        'How long a revert is retried before the run ends rollback-failed',
      ),
      maxProbeRate: z
        .number()
        .positive()
        .max(
          MAX_PROBE_RATE,
          `at most ${MAX_PROBE_RATE} requests a second, the most a worker samples and still reverts at once`,
        )
        .default(PROBE_RATE_DEFAULT)
        .describe(
          `Most probe requests a second the run may send, all probes sampling at once together (default ${PROBE_RATE_DEFAULT}, at most ${MAX_PROBE_RATE}); a file that would send more is refused`,
        ),
    })
    .default({ rollbackTimeout: '10m', maxProbeRate: PROBE_RATE_DEFAULT }),
  steadyState: z
    .array(Probe)
    .min(1, 'name at least one steady-state probe: it is the hypothesis')
    .max(MAX_PROBES, PROBES_MESSAGE),
  guardrails: z.array(Guardrail).max(MAX_PROBES, PROBES_MESSAGE).default([]),
  phases: z.array(Phase).min(1),
  recovery: z.strictObject({ within: Duration }).default({ within: '1m' }),
  rollback: z.array(RollbackStep).default([]).describe('Extra steps after every fault is reverted'),
  notify: z
    .array(Webhook)
    .default([])
    .describe('Webhooks told when the run starts, waits at a gate, breaches, aborts or finishes'),
  continuity: Continuity.optional(),
});

export type Experiment = z.infer<typeof Experiment>;
export type ExperimentInput = z.input<typeof Experiment>;
export type Probe = z.infer<typeof Probe>;
export type InlineProbe = z.infer<typeof InlineProbe>;
export type Tolerance = z.infer<typeof Tolerance>;
export type AbortWhen = z.infer<typeof AbortWhen>;
export type Fault = z.infer<typeof Fault>;
export type Target = z.infer<typeof Experiment>['target'];

/** JSON Schema of the experiment file, for editors (`gameday schema`). */
export function experimentJsonSchema(): object {
  return z.toJSONSchema(Experiment, { io: 'input', target: 'draft-2020-12' });
}
