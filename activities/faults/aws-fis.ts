/**
 * The `awsFis` fault provider. Inject starts an FIS experiment (creating the run's own template
 * first when the file gives one inline) and waits until it runs; revert stops it and waits until
 * it has stopped, then deletes the run's template. Every call is idempotent: client tokens come
 * from the run id and fault name, and the template and experiment carry the run id as a tag, so a
 * revert after a crash finds the experiment even if its id was never recorded.
 */
import {
  CreateExperimentTemplateCommand,
  type CreateExperimentTemplateCommandInput,
  DeleteExperimentTemplateCommand,
  type ExperimentState,
  GetExperimentCommand,
  GetExperimentTemplateCommand,
  ListExperimentsCommand,
  ListExperimentTemplatesCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from '@aws-sdk/client-fis';
import { ApplicationFailure } from '@temporalio/common';
import { destroysInstances } from '../../src/experiment/fis-actions';
import { API_ONLY_FIELDS, mergedTags } from '../../src/experiment/fis-template';
import type { FisHandle } from '../../src/report/journal';
import { aws, awsFailure, fisClient, isNotFound, waitUntil } from '../aws';
import { type FisTargetView, INSTANCE_RESOURCE_TYPES, matchInstanceTarget } from './fis-targets';

const ENDED = ['completed', 'stopped', 'failed', 'cancelled'];

export async function injectFis(handle: FisHandle, beforeChange: () => void): Promise<FisHandle> {
  const fis = fisClient(handle);
  beforeChange();
  const createdTemplateId = handle.template ? await createTemplate(handle) : null;
  const templateId = handle.templateId ?? createdTemplateId;
  if (!templateId) throw ApplicationFailure.nonRetryable('no FIS template to start', 'FisNoTemplate');
  beforeChange();
  const started = await aws('fis StartExperiment', () =>
    fis.send(
      new StartExperimentCommand({
        experimentTemplateId: templateId,
        clientToken: handle.clientToken,
        // The experiment carries the template's own tags too, gameday's winning on a clash.
        tags: mergedTags(handle.template?.tags as Record<string, string> | undefined, handle.tags).tags,
      }),
    ),
  );
  const experimentId = started.experiment?.id;
  if (!experimentId)
    throw ApplicationFailure.retryable('FIS StartExperiment returned no experiment id', 'AwsTransient');

  await waitUntil(`FIS experiment ${experimentId} to run`, handle.waitForMs, async () => {
    const state = await experimentState(handle, experimentId);
    if (state.status === 'running' || state.status === 'completed') return true;
    if (state.status && ENDED.includes(state.status)) {
      throw ApplicationFailure.nonRetryable(
        `FIS experiment ${experimentId} ended ${state.status} before it ran: ${state.reason ?? 'no reason given'}`,
        'FisExperimentFailed',
      );
    }
    return undefined;
  });
  return { ...handle, experimentId, createdTemplateId };
}

export async function revertFis(handle: FisHandle): Promise<{ alreadyGone: boolean; handle: FisHandle }> {
  const fis = fisClient(handle);
  const experimentId = handle.experimentId ?? (await findByTags(handle, 'experiment'));
  let alreadyGone = true;
  if (experimentId) {
    const state = await experimentState(handle, experimentId).catch((error): ExperimentState | null => {
      if (isNotFound(error)) return null;
      throw error;
    });
    if (state?.status && !ENDED.includes(state.status)) {
      alreadyGone = false;
      await aws('fis StopExperiment', () => fis.send(new StopExperimentCommand({ id: experimentId }))).catch(
        (error) => {
          if (!isNotFound(error)) throw error;
        },
      );
      await waitUntil(`FIS experiment ${experimentId} to stop`, handle.waitForMs, async () => {
        const now = await experimentState(handle, experimentId);
        return now.status && ENDED.includes(now.status) ? true : undefined;
      });
    }
  }
  const templateId = handle.template
    ? (handle.createdTemplateId ?? (await findByTags(handle, 'template')))
    : null;
  if (templateId) {
    await aws('fis DeleteExperimentTemplate', () =>
      fis.send(new DeleteExperimentTemplateCommand({ id: templateId })),
    ).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  }
  return { alreadyGone, handle: { ...handle, experimentId: experimentId ?? null } };
}

export async function experimentState(handle: FisHandle, experimentId: string): Promise<ExperimentState> {
  const answer = await aws(`fis GetExperiment ${experimentId}`, () =>
    fisClient(handle).send(new GetExperimentCommand({ id: experimentId })),
  );
  return answer.experiment?.state ?? {};
}

/** The template a templateId fault names, for `gameday plan` and the safety checks. */
export async function getTemplate(handle: FisHandle) {
  if (!handle.templateId) return null;
  const templateId = handle.templateId;
  try {
    const answer = await fisClient(handle).send(new GetExperimentTemplateCommand({ id: templateId }));
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
  const template = (handle.templateId ? await getTemplate(handle) : handle.template) as TemplateView | null;
  if (!template) {
    throw ApplicationFailure.nonRetryable(
      `fault ${faultName}: no FIS experiment template ${handle.templateId}`,
      'TargetMissing',
    );
  }
  if (template.experimentOptions?.accountTargeting === 'multi-account') {
    throw ApplicationFailure.nonRetryable(
      `fault ${faultName}: template ${handle.templateId ?? '(inline)'} is multi-account; target.accounts cannot check the accounts it acts in`,
      'AccountNotAllowed',
    );
  }
  const destructive = Object.values(template.actions ?? {})
    .map((action) => action.actionId ?? '')
    .find((actionId) => destroysInstances(actionId));
  if (destructive && !handle.irreversible) {
    throw ApplicationFailure.nonRetryable(
      `fault ${faultName}: the template's ${destructive} ${destroysInstances(destructive)}, which cannot be undone; set irreversible: true to confirm`,
      'Irreversible',
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
      throw ApplicationFailure.nonRetryable(
        `fault ${faultName}: FIS target ${name} resolves to nothing: ${what}; FIS fails such an experiment ` +
          'unless experimentOptions.emptyTargetResolutionMode is skip',
        'TargetMissing',
      );
    }
    for (const id of ids) matched.add(id);
    const chosen = selectionCount(target.selectionMode ?? 'ALL', ids.length);
    const percent = ids.length ? (100 * chosen) / ids.length : 0;
    if (percent > maxBlastRadius) {
      throw ApplicationFailure.nonRetryable(
        `fault ${faultName}: FIS target ${name} selects ${target.selectionMode} of ${ids.length} matching instances ` +
          `(${percent.toFixed(0)}%), above target.maxBlastRadius ${maxBlastRadius}%`,
        'BlastRadius',
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
  const template = handle.template as unknown as CreateExperimentTemplateCommandInput;
  const command = new CreateExperimentTemplateCommand({
    ...template,
    clientToken: `${handle.clientToken}-template`,
    tags: mergedTags(template.tags, handle.tags).tags,
  });
  sendApiOnlyFields(command, handle.template ?? {});
  const created = await aws('fis CreateExperimentTemplate', () => fisClient(handle).send(command));
  const id = created.experimentTemplate?.id;
  if (!id) throw ApplicationFailure.retryable('FIS CreateExperimentTemplate returned no id', 'AwsTransient');
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
  const fis = fisClient(handle);
  const matches = (tags: Record<string, string> | undefined) =>
    Object.entries(handle.tags).every(([key, value]) => tags?.[key] === value);
  let nextToken: string | undefined;
  do {
    if (kind === 'experiment') {
      const page = await aws('fis ListExperiments', () =>
        fis.send(new ListExperimentsCommand({ nextToken })),
      );
      const found = page.experiments?.find((e) => matches(e.tags));
      if (found?.id) return found.id;
      nextToken = page.nextToken;
    } else {
      const page = await aws('fis ListExperimentTemplates', () =>
        fis.send(new ListExperimentTemplatesCommand({ nextToken })),
      );
      const found = page.experimentTemplates?.find((t) => matches(t.tags));
      if (found?.id) return found.id;
      nextToken = page.nextToken;
    }
  } while (nextToken);
  return null;
}
