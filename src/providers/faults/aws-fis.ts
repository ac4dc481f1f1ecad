/**
 * The `awsFis` fault provider. Inject starts an FIS experiment (creating the run's own template
 * first when the file gives one inline) and waits until it runs; revert stops it and waits until
 * it has stopped, then deletes the run's template. Every call is idempotent: client tokens come
 * from the run id and fault name, and the template and experiment carry the run id as a tag, so a
 * revert after a crash finds the experiment even if its id was never recorded.
 */
import { createHash } from 'node:crypto';
import type {
  CreateExperimentTemplateCommand,
  CreateExperimentTemplateCommandInput,
  ExperimentState,
} from '@aws-sdk/client-fis';
import { z } from 'zod';
import { fisFaultIssues } from '../../experiment/aws-checks';
import { FisFault } from '../../experiment/aws-schema';
import { parseDuration } from '../../experiment/duration';
import { destroysInstances } from '../../experiment/fis-actions';
import { API_ONLY_FIELDS, mergedTags } from '../../experiment/fis-template';
import { aws, awsFailure, fis as fisApi, isNotFound, waitUntil } from '../aws';
import { AwsLocation } from '../aws-location';
import { type FaultProvider, refused, unavailable } from '../fault-provider';
import type { FisTargetView } from './fis-targets';

export const FisHandle = z.object({
  ...AwsLocation,
  templateId: z.string().nullable(),
  /** An inline template, created for the run (idempotently, by client token) and deleted after it. */
  template: z.record(z.string(), z.unknown()).nullable(),
  clientToken: z.string(),
  /** Tags on the template and the experiment, so a revert after a crash can find them. */
  tags: z.record(z.string(), z.string()),
  waitForMs: z.number(),
  experimentId: z.string().nullable(),
  createdTemplateId: z.string().nullable(),
  irreversible: z.boolean().default(false),
  /** The EC2 instances the template's instance targets match: what the run's locks cover. */
  matched: z.array(z.string()).nullable().default(null),
});
export type FisHandle = z.infer<typeof FisHandle>;

const ENDED = ['completed', 'stopped', 'failed', 'cancelled'];

export async function injectFis(
  handle: FisHandle,
  beforeChange: () => void,
  signal?: AbortSignal,
): Promise<FisHandle> {
  const { sdk, client: fis } = await fisApi(handle);
  beforeChange();
  const createdTemplateId = handle.template ? await createTemplate(handle) : null;
  const templateId = handle.templateId ?? createdTemplateId;
  if (!templateId) throw refused('no FIS template to start');
  beforeChange();
  const started = await aws('fis StartExperiment', () =>
    fis.send(
      new sdk.StartExperimentCommand({
        experimentTemplateId: templateId,
        clientToken: handle.clientToken,
        // The experiment carries the template's own tags too, gameday's winning on a clash.
        tags: mergedTags(handle.template?.tags as Record<string, string> | undefined, handle.tags).tags,
      }),
    ),
  );
  const experimentId = started.experiment?.id;
  if (!experimentId) throw unavailable('FIS StartExperiment returned no experiment id');

  await waitUntil(
    `FIS experiment ${experimentId} to run`,
    handle.waitForMs,
    async () => {
      const state = await experimentState(handle, experimentId);
      if (state.status === 'running' || state.status === 'completed') return true;
      if (state.status && ENDED.includes(state.status)) {
        throw refused(
          `FIS experiment ${experimentId} ended ${state.status} before it ran: ${state.reason ?? 'no reason given'}`,
        );
      }
      return undefined;
    },
    signal,
  );
  return { ...handle, experimentId, createdTemplateId };
}

export async function revertFis(
  handle: FisHandle,
  signal?: AbortSignal,
): Promise<{ alreadyGone: boolean; handle: FisHandle }> {
  const { sdk, client: fis } = await fisApi(handle);
  const experimentId = handle.experimentId ?? (await findByTags(handle, 'experiment'));
  let alreadyGone = true;
  if (experimentId) {
    const state = await experimentState(handle, experimentId).catch((error): ExperimentState | null => {
      if (isNotFound(error)) return null;
      throw error;
    });
    if (state?.status && !ENDED.includes(state.status)) {
      alreadyGone = false;
      await aws('fis StopExperiment', () =>
        fis.send(new sdk.StopExperimentCommand({ id: experimentId })),
      ).catch((error) => {
        if (!isNotFound(error)) throw error;
      });
      await waitUntil(
        `FIS experiment ${experimentId} to stop`,
        handle.waitForMs,
        async () => {
          const now = await experimentState(handle, experimentId);
          return now.status && ENDED.includes(now.status) ? true : undefined;
        },
        signal,
      );
    }
  }
  const templateId = handle.template
    ? (handle.createdTemplateId ?? (await findByTags(handle, 'template')))
    : null;
  if (templateId) {
    await aws('fis DeleteExperimentTemplate', () =>
      fis.send(new sdk.DeleteExperimentTemplateCommand({ id: templateId })),
    ).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  }
  return { alreadyGone, handle: { ...handle, experimentId: experimentId ?? null } };
}

export async function experimentState(handle: FisHandle, experimentId: string): Promise<ExperimentState> {
  const { sdk, client } = await fisApi(handle);
  const answer = await aws(`fis GetExperiment ${experimentId}`, () =>
    client.send(new sdk.GetExperimentCommand({ id: experimentId })),
  );
  return answer.experiment?.state ?? {};
}

/** The template a templateId fault names, for `gameday plan` and the safety checks. */
export async function getTemplate(handle: FisHandle) {
  if (!handle.templateId) return null;
  const templateId = handle.templateId;
  const { sdk, client } = await fisApi(handle);
  try {
    const answer = await client.send(new sdk.GetExperimentTemplateCommand({ id: templateId }));
    return answer.experimentTemplate ?? null;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw awsFailure(error, `fis GetExperimentTemplate ${templateId}`);
  }
}

interface TemplateView {
  actions?: Record<string, { actionId?: string }>;
  targets?: Record<string, FisTargetView>;
  experimentOptions?: { accountTargeting?: string; emptyTargetResolutionMode?: string };
}

/**
 * The safety rails for an FIS fault, before anything runs: the template exists, acts in one
 * account, destroys no instance unless the file says irreversible, its instance and Spot targets
 * resolve to instances that exist, and none selects a larger share of them than
 * target.maxBlastRadius. Returns the handle with the instances those targets match, which the run
 * then locks (an ARN whose instance does not exist is not locked).
 */
export async function resolveFis(
  handle: FisHandle,
  faultName: string,
  maxBlastRadius: number,
): Promise<FisHandle> {
  const { INSTANCE_RESOURCE_TYPES, matchInstanceTarget } = await import('./fis-targets');
  const template = (handle.templateId ? await getTemplate(handle) : handle.template) as TemplateView | null;
  if (!template) {
    throw refused(`fault ${faultName}: no FIS experiment template ${handle.templateId}`);
  }
  if (template.experimentOptions?.accountTargeting === 'multi-account') {
    throw refused(
      `fault ${faultName}: template ${handle.templateId ?? '(inline)'} is multi-account; target.accounts cannot check the accounts it acts in`,
    );
  }
  const destructive = Object.values(template.actions ?? {})
    .map((action) => action.actionId ?? '')
    .find((actionId) => destroysInstances(actionId));
  if (destructive && !handle.irreversible) {
    throw refused(
      `fault ${faultName}: the template's ${destructive} ${destroysInstances(destructive)}, which cannot be undone; set irreversible: true to confirm`,
    );
  }
  const matched = new Set<string>();
  for (const [name, target] of Object.entries(template.targets ?? {})) {
    if (!INSTANCE_RESOURCE_TYPES.includes(target.resourceType ?? '')) continue;
    const { ids, missing } = await matchInstanceTarget(
      handle,
      target,
      `fault ${faultName}: FIS target ${name}`,
    );
    if (ids.length === 0 && template.experimentOptions?.emptyTargetResolutionMode !== 'skip') {
      const what = missing.length
        ? `none of its resourceArns exists (${missing.join(', ')})`
        : 'it matches no instance';
      throw refused(
        `fault ${faultName}: FIS target ${name} resolves to nothing: ${what}; FIS fails such an experiment ` +
          'unless experimentOptions.emptyTargetResolutionMode is skip',
      );
    }
    for (const id of ids) matched.add(id);
    const chosen = selectionCount(target.selectionMode ?? 'ALL', ids.length);
    const percent = ids.length ? (100 * chosen) / ids.length : 0;
    if (percent > maxBlastRadius) {
      throw refused(
        `fault ${faultName}: FIS target ${name} selects ${target.selectionMode} of ${ids.length} matching instances ` +
          `(${percent.toFixed(0)}%), above target.maxBlastRadius ${maxBlastRadius}%`,
      );
    }
  }
  return { ...handle, matched: [...matched].sort() };
}

/** How many of `available` a selection mode picks, as FIS reads ALL, COUNT(n) and PERCENT(n). */
function selectionCount(mode: string, available: number): number {
  const count = /^COUNT\((\d+)\)$/.exec(mode);
  if (count) return Math.min(Number(count[1]), available);
  const percent = /^PERCENT\((\d+(?:\.\d+)?)\)$/.exec(mode);
  if (percent) return Math.max(Math.floor((available * Number(percent[1])) / 100), available > 0 ? 1 : 0);
  return available;
}

async function createTemplate(handle: FisHandle): Promise<string> {
  const { sdk, client } = await fisApi(handle);
  const template = handle.template as unknown as CreateExperimentTemplateCommandInput;
  const command = new sdk.CreateExperimentTemplateCommand({
    ...template,
    clientToken: `${handle.clientToken}-template`,
    tags: mergedTags(template.tags, handle.tags).tags,
  });
  sendApiOnlyFields(command, handle.template ?? {});
  const created = await aws('fis CreateExperimentTemplate', () => client.send(command));
  const id = created.experimentTemplate?.id;
  if (!id) throw unavailable('FIS CreateExperimentTemplate returned no id');
  return id;
}

/**
 * Puts the fields FIS has and the pinned SDK does not (src/experiment/fis-template.ts) into the
 * request body, right after the SDK has serialized it without them.
 */
function sendApiOnlyFields(
  command: CreateExperimentTemplateCommand,
  template: Record<string, unknown>,
): void {
  const extra = Object.fromEntries(API_ONLY_FIELDS.filter((f) => f in template).map((f) => [f, template[f]]));
  if (Object.keys(extra).length === 0) return;
  type Args = { request: { body?: unknown } };
  const addFields = (next: (args: Args) => Promise<unknown>) => async (args: Args) => {
    const { request } = args;
    if (typeof request.body === 'string')
      request.body = JSON.stringify({ ...JSON.parse(request.body), ...extra });
    return next(args);
  };
  // The SDK's middleware types come from its own (older) @smithy/types copy.
  command.middlewareStack.addRelativeTo(addFields as never, {
    relation: 'after',
    toMiddleware: 'serializerMiddleware',
    name: 'gamedayApiOnlyFields',
  });
}

/** The run's experiment or template, found by its tags: how a revert after a crash finds it. */
async function findByTags(handle: FisHandle, kind: 'experiment' | 'template'): Promise<string | null> {
  const { sdk, client: fis } = await fisApi(handle);
  const matches = (tags: Record<string, string> | undefined) =>
    Object.entries(handle.tags).every(([key, value]) => tags?.[key] === value);
  let nextToken: string | undefined;
  do {
    if (kind === 'experiment') {
      const page = await aws('fis ListExperiments', () =>
        fis.send(new sdk.ListExperimentsCommand({ nextToken })),
      );
      const found = page.experiments?.find((e) => matches(e.tags));
      if (found?.id) return found.id;
      nextToken = page.nextToken;
    } else {
      const page = await aws('fis ListExperimentTemplates', () =>
        fis.send(new sdk.ListExperimentTemplatesCommand({ nextToken })),
      );
      const found = page.experimentTemplates?.find((t) => matches(t.tags));
      if (found?.id) return found.id;
      nextToken = page.nextToken;
    }
  } while (nextToken);
  return null;
}

/**
 * AWS client tokens are at most 64 characters; the run id and fault name, hashed, make one that
 * is the same for every attempt of this run's fault and different for every other.
 */
export function clientToken(runId: string, faultName: string): string {
  return `gameday-${createHash('sha256').update(`${runId}/${faultName}`).digest('hex').slice(0, 40)}`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The instances its targets match, as for awsEc2, so FIS and EC2 runs on one fleet exclude each
 * other; and the template itself.
 */
export function fisLockKeys(handle: FisHandle): string[] {
  const { region, templateId, template, matched } = handle;
  const instances = (matched ?? []).map((id) => `ec2/${region}/${id}`);
  if (templateId) return [`fis-template/${region}/${templateId}`, ...instances];
  const targets = sha256(JSON.stringify(template?.targets ?? {})).slice(0, 16);
  return [`fis-targets/${region}/${targets}`, ...instances];
}

export const awsFis = {
  spec: FisFault,
  handle: FisHandle,
  usesAws: true,
  issues: (raw, path, experiment) => {
    const target = experiment.target as { maxBlastRadius?: unknown } | undefined;
    return fisFaultIssues(raw, path, typeof target?.maxBlastRadius === 'number' ? target.maxBlastRadius : 50);
  },
  plan: (spec, ctx) => ({
    ...ctx.aws.location('fis'),
    templateId: spec.templateId ?? null,
    template: (spec.template as Record<string, unknown> | undefined) ?? null,
    clientToken: clientToken(ctx.runId, ctx.fault),
    tags: { 'gameday:run-id': ctx.runId, 'gameday:fault': ctx.fault },
    waitForMs: parseDuration(spec.waitFor),
    experimentId: null,
    createdTemplateId: null,
    irreversible: spec.irreversible,
    matched: null,
  }),
  async resolve(handle, ctx) {
    const resolved = await resolveFis(handle, ctx.fault, ctx.maxBlastRadius);
    return { handle: resolved, lockKeys: fisLockKeys(resolved) };
  },
  inject: (handle, ctx) => injectFis(handle, ctx.beforeChange, ctx.signal),
  revert: (handle, ctx) => revertFis(handle, ctx.signal),
  describe(f) {
    const template = f.templateId
      ? `template ${f.templateId}`
      : `inline template (${f.createdTemplateId ?? 'created at inject'})`;
    return `fis ${f.region} ${template}, experiment ${f.experimentId ?? '(not started)'}`;
  },
  planLines: async (handle, fault) => (await import('./aws-fis-plan')).fisFaultLines(fault, handle),
  /** FIS may end an experiment early (a stop condition, someone in the console): the watch follows it. */
  async observe(handle) {
    if (!handle.experimentId) return null;
    const state = await experimentState(handle, handle.experimentId);
    if (!state.status) return null;
    return {
      subject: `FIS experiment ${handle.experimentId}`,
      status: state.status,
      reason: state.reason ?? '',
      ended: ENDED.includes(state.status),
    };
  },
} satisfies FaultProvider<typeof FisFault, typeof FisHandle>;
