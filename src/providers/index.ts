/**
 * THE registry: every fault provider and probe kind gameday knows, one line each. The experiment
 * schema's fault keys, the journal's handle union and `gameday schema` are derived from it, so a
 * provider missing a piece does not compile, and a registered one is subject to the contract suite
 * (test/contract). Adding one: CONTRIBUTING.md.
 */
import { z } from 'zod';
import type { FaultProvider } from './fault-provider';
import { awsEc2 } from './faults/aws-ec2';
import { awsFis } from './faults/aws-fis';
import { route53Fault } from './faults/route53';
import { toxiproxy } from './faults/toxiproxy';
import type { ProbeKind } from './probe-kind';
import { cloudwatch } from './probes/cloudwatch';
import { dynamodb } from './probes/dynamodb';
import { ec2Fleet } from './probes/ec2-fleet';
import { http } from './probes/http';
import { prometheus } from './probes/prometheus';

export const faultProviders = {
  toxiproxy,
  awsEc2,
  awsFis,
  route53: route53Fault,
} satisfies Record<string, FaultProvider>;

export const probeKinds = {
  http,
  dynamodb,
  ec2Fleet,
  prometheus,
  cloudwatch,
} satisfies Record<string, ProbeKind>;

export type FaultProviderName = keyof typeof faultProviders;
export const FAULT_PROVIDERS = Object.keys(faultProviders) as FaultProviderName[];

type Providers = typeof faultProviders;

// ---------------------------------------------------------------------------------------------
// The experiment file: a fault is a name and exactly one provider key (checks.ts counts them).

type FaultKeys = { [K in FaultProviderName]: z.ZodOptional<Providers[K]['spec']> };
export const faultSpecKeys = Object.fromEntries(
  FAULT_PROVIDERS.map((key) => [key, faultProviders[key].spec.optional()]),
) as FaultKeys;

type WithSettings = {
  [K in FaultProviderName]: Providers[K] extends { settings: { spec: z.ZodType } } ? K : never;
}[FaultProviderName];
type SettingsKeys = {
  [K in WithSettings]: Providers[K] extends { settings: { spec: infer S extends z.ZodType } }
    ? z.ZodOptional<S>
    : never;
};
/** settings.<provider> for the providers that have run-level settings. */
export const providerSettingsKeys = Object.fromEntries(
  FAULT_PROVIDERS.flatMap((key) => {
    const provider: FaultProvider = faultProviders[key];
    return provider.settings ? [[key, provider.settings.spec.optional()]] : [];
  }),
) as SettingsKeys;

// ---------------------------------------------------------------------------------------------
// The journal: `{ name, phase, provider: key, [key]: handle }`, the shape journals always had.

const faultIdentity = { name: z.string(), phase: z.string() };

type HandleShape<K extends FaultProviderName> = {
  name: z.ZodString;
  phase: z.ZodString;
  provider: z.ZodLiteral<K>;
} & { [P in K]: Providers[P]['handle'] };

function handleSchema<K extends FaultProviderName>(key: K): z.ZodObject<HandleShape<K>> {
  return z.object({
    ...faultIdentity,
    provider: z.literal(key),
    [key]: faultProviders[key].handle,
  } as unknown as HandleShape<K>);
}

type HandleSchemas = { [K in FaultProviderName]: z.ZodObject<HandleShape<K>> }[FaultProviderName];

export const FaultHandle = z.discriminatedUnion(
  'provider',
  FAULT_PROVIDERS.map(handleSchema) as unknown as [HandleSchemas, ...HandleSchemas[]],
);
export type FaultHandle = z.infer<typeof FaultHandle>;

/** The provider of a handle, typed loosely: the engine only ever passes a provider its own handle. */
export function providerOf(handle: FaultHandle): FaultProvider {
  const provider = faultProviders[handle.provider] as FaultProvider | undefined;
  if (!provider) throw new Error(`no fault provider named ${handle.provider}`);
  return provider;
}

/** The provider's own part of a handle: `handle.toxiproxy` for a toxiproxy fault. */
export function bodyOf(handle: FaultHandle): unknown {
  return (handle as Record<string, unknown>)[handle.provider];
}

/** The handle with its provider's part replaced. */
export function withBody(handle: FaultHandle, body: unknown): FaultHandle {
  return { ...handle, [handle.provider]: body } as FaultHandle;
}

/** One line that says exactly what a fault handle touches, for journals, status and plans. */
export function describeHandle(handle: FaultHandle): string {
  return providerOf(handle).describe(bodyOf(handle));
}

// ---------------------------------------------------------------------------------------------
// Probes: the file's keys, and the plan as a union discriminated on `kind`.

export type ProbeKindName = keyof typeof probeKinds;
export const PROBE_KINDS = Object.keys(probeKinds) as ProbeKindName[];
type Kinds = typeof probeKinds;

type ProbeKeys = { [K in ProbeKindName]: z.ZodOptional<Kinds[K]['spec']> };
export const probeSpecKeys = Object.fromEntries(
  PROBE_KINDS.map((key) => [key, probeKinds[key].spec.optional()]),
) as ProbeKeys;

/** What one kind plans: `{ kind: 'http', http: HttpProbePlan }`. */
export type ProbeBody = {
  [K in ProbeKindName]: { kind: K } & { [P in K]: ReturnType<Kinds[P]['plan']> };
}[ProbeKindName];

export function kindOf(probe: { kind: ProbeKindName }): ProbeKind {
  const kind = probeKinds[probe.kind] as ProbeKind | undefined;
  if (!kind) throw new Error(`no probe kind named ${probe.kind}`);
  return kind;
}

/** The kind's own part of a probe plan: `probe.http` for an http probe. */
export function probeBodyOf(probe: ProbeBody): unknown {
  return (probe as Record<string, unknown>)[probe.kind];
}
