/**
 * What a fault provider is (docs/architecture.md, "The provider seam"). A provider is one module:
 * its file schema, its journal handle, and the few functions the engine calls. Optional behaviour
 * is an optional member, as Toxiproxy's CleanupToxic and StatefulToxic are optional interfaces:
 * the engine calls `observe`, `prepareRun`, `issues` or `planLines` only when a provider has them.
 *
 * Top-level imports here and in every provider file are zod, src/experiment primitives and types:
 * SDKs load inside the functions that use them, so `gameday validate` never loads one.
 */
import type { z } from 'zod';
import type { AwsLocator } from './aws-location';

export type Path = (string | number)[];

export interface RawIssue {
  path: Path;
  message: string;
}

/** Everything a provider's `plan` may use: pure data, no I/O. */
export interface PlanContext {
  runId: string;
  /** The fault's name: with the run id it names what is injected. */
  fault: string;
  /** The environment the CLI runs in (overrides such as TOXIPROXY_URL, AWS_ENDPOINT_URL_EC2). */
  env: Record<string, string | undefined>;
  /** The experiment's settings.<provider>, parsed, when the provider has settings. */
  settings: unknown;
  aws: AwsLocator;
}

/** What resolve and prepareRun may use; they may read the world, and only prepareRun may change it. */
export interface ResolveContext {
  fault: string;
  maxBlastRadius: number;
}

/** What inject and revert get from the engine (an activity, or the contract suite). */
export interface InjectContext {
  fault: string;
  /**
   * Called before every change: throws when this attempt has outlived its timeouts, so a stalled
   * attempt never applies its fault after the run reverted it.
   */
  beforeChange(): void;
  /** False on a retried attempt: what the world looks like may then be this run's own doing. */
  firstAttempt: boolean;
  /** Aborted when the attempt is cancelled or timed out: long waits must stop. */
  signal: AbortSignal;
}

export interface Reverted<Handle> {
  /** Nothing was left to revert: never applied, or removed by someone else. */
  alreadyGone: boolean;
  /** The handle with what the revert learnt (an FIS experiment found by its tags). */
  handle?: Handle;
  /** What the revert left as it was, and why. */
  note?: string;
}

/** One thing the watch saw of a fault in place (an FIS experiment's state). */
export interface Observation {
  /** What is observed, for reports: "FIS experiment EXP123". */
  subject: string;
  status: string;
  reason: string;
  /** The fault ended by itself during the phase. */
  ended: boolean;
}

export interface FaultProvider<
  Spec extends z.ZodType = z.ZodType,
  Handle extends z.ZodType = z.ZodType,
  Settings extends z.ZodType = z.ZodType,
> {
  /** What the experiment file's fault key accepts (strict zod). */
  spec: Spec;
  /** What the journal records: names exactly what is injected, so anyone can revert it. A numeric
   *  `waitForMs` in it lengthens the inject and revert activities' timeouts by that much. */
  handle: Handle;
  /** Run-level settings under experiment.settings.<key>, and what the run makes of them. */
  settings?: {
    spec: Settings;
    /** The settings as the run uses them (overrides applied); null when the run does not need them. */
    plan(settings: z.infer<Settings> | undefined, used: boolean, ctx: Omit<PlanContext, 'fault'>): unknown;
    /** Validate-time rules of the settings block one field cannot express. */
    issues?(raw: Record<string, unknown>, path: Path): RawIssue[];
  };
  /** Whether faults of this kind talk to AWS (settings.aws required; the account is checked). */
  usesAws?: boolean;
  /** Validate-time rules one field cannot express, on the raw parsed fault spec. */
  issues?(raw: Record<string, unknown>, path: Path, experiment: Record<string, unknown>): RawIssue[];
  /** Pure: the file's spec → the handle for this run (names from run id + fault name). */
  plan(spec: z.infer<Spec>, ctx: PlanContext): z.infer<Handle>;
  /** Run-level preparation before any fault (create declared proxies); may change the world. */
  prepareRun?(
    handles: z.infer<Handle>[],
    settings: unknown,
    ctx: Omit<ResolveContext, 'fault'>,
  ): Promise<{ created: string[] }>;
  /**
   * Read-only: exactly what the fault will touch, its lock keys, and its safety rules (blast
   * radius, permissions). Also what `gameday plan` shows. Throws refused() or unavailable().
   */
  resolve(
    handle: z.infer<Handle>,
    ctx: ResolveContext,
  ): Promise<{ handle: z.infer<Handle>; lockKeys: string[] }>;
  /** Idempotent. Calls ctx.beforeChange() before every change. */
  inject(handle: z.infer<Handle>, ctx: InjectContext): Promise<z.infer<Handle>>;
  /** Idempotent; reverting something already gone is success (alreadyGone: true). */
  revert(handle: z.infer<Handle>, ctx: InjectContext): Promise<Reverted<z.infer<Handle>>>;
  /** One line saying exactly what it touches; never a secret. */
  describe(handle: z.infer<Handle>): string;
  /** `gameday plan`'s lines for this fault (may read, never change). Default: describe(). */
  planLines?(handle: z.infer<Handle>, fault: string): Promise<string[]>;
  /** Follow the fault during its phase; the watch polls it. */
  observe?(handle: z.infer<Handle>): Promise<Observation | null>;
}

/**
 * The two ways a provider fails that the engine knows. Refused: the file or the targets are
 * wrong, and nothing was changed (exit 64). Unavailable: a service the fault needs did not answer
 * (exit 69); worth retrying. The message keeps the specific reason.
 */
export type FailureKind = 'refused' | 'unavailable';

export class ProviderFailure extends Error {
  override name: 'Refused' | 'Unavailable';
  constructor(
    readonly kind: FailureKind,
    message: string,
  ) {
    super(message);
    this.name = kind === 'refused' ? 'Refused' : 'Unavailable';
  }
}

export const refused = (message: string) => new ProviderFailure('refused', message);
export const unavailable = (message: string) => new ProviderFailure('unavailable', message);

export function isProviderFailure(error: unknown): error is ProviderFailure {
  return error instanceof ProviderFailure;
}
