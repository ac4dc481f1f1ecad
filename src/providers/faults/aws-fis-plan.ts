/**
 * What `gameday plan` says about an `awsFis` fault: the template's merged tags, each action (in
 * capitals when it cannot be undone, or when what it does is a document gameday could not read),
 * each target with the instances it matches now, and whether FIS itself has every action.
 */
import { FisClient, ListActionsCommand } from '@aws-sdk/client-fis';
import { GetDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { parse } from 'yaml';
import { destroysInstances, FIS_CATALOGUE_DATE, RUNS_A_DOCUMENT } from '../../experiment/fis-actions';
import { mergedTags } from '../../experiment/fis-template';
import type { AwsLocationPlan } from '../aws-location';
import { refused } from '../fault-provider';
import { type FisHandle, getTemplate } from './aws-fis';
import { type FisTargetView, INSTANCE_RESOURCE_TYPES, matchInstanceTarget } from './fis-targets';

interface ActionView {
  actionId?: string;
  startAfter?: string[];
  parameters?: Record<string, string>;
}

interface TemplateView {
  actions?: Record<string, ActionView>;
  targets?: Record<string, FisTargetView>;
}

export async function fisFaultLines(name: string, fault: FisHandle): Promise<string[]> {
  const template = (fault.templateId ? await getTemplate(fault) : fault.template) as TemplateView | null;
  const actions = Object.entries(template?.actions ?? {});
  const lines = [
    `${name}: start FIS experiment from ${fault.templateId ? `template ${fault.templateId}` : 'an inline template'} in ${fault.region}, stop it on revert`,
  ];
  if (fault.template) lines.push(tagsLine(fault));
  for (const [actionName, action] of actions) lines.push(...(await actionLines(fault, actionName, action)));
  for (const [targetName, target] of Object.entries(template?.targets ?? {})) {
    lines.push(`  target ${targetName}: ${await targetText(fault, name, targetName, target)}`);
  }
  // A template read from FIS by id has only actions FIS has.
  if (fault.template)
    lines.push(
      await actionsCheckLine(
        fault,
        actions.map(([, a]) => a.actionId ?? ''),
      ),
    );
  return lines;
}

/** The tags the run's template gets: the file's, merged with gameday's run tags, which win. */
function tagsLine(fault: FisHandle): string {
  const userTags = fault.template?.tags as Record<string, string> | undefined;
  const { tags, overridden } = mergedTags(userTags, fault.tags);
  const list = Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
  const replaced = overridden.map((key) => `${key}=${userTags?.[key]}`).join(', ');
  return `  tags ${list}${replaced ? ` (gameday's run tags win: the template's ${replaced} is replaced)` : ''}`;
}

async function actionLines(fault: FisHandle, name: string, action: ActionView): Promise<string[]> {
  const actionId = action.actionId ?? '';
  const lines = [
    `  action ${name}: ${actionId}${action.startAfter?.length ? ` after ${action.startAfter.join(', ')}` : ''}`,
  ];
  const destroys = destroysInstances(actionId);
  if (destroys)
    lines.push(`    THIS ${destroys.toUpperCase()}. IT CANNOT BE UNDONE: ROLLBACK WILL NOT BRING THEM BACK.`);
  if (RUNS_A_DOCUMENT.includes(actionId))
    lines.push(`    ${await documentText(fault, action.parameters?.documentArn)}`);
  return lines;
}

/** What an SSM Automation document does, step by step, as SSM holds it; or that nobody here knows. */
async function documentText(fault: FisHandle, documentArn: string | undefined): Promise<string> {
  const unknown = (why: string) =>
    `EFFECTS UNKNOWN TO GAMEDAY: it runs SSM document ${documentArn ?? '(none given)'}, which plan could not read (${why}); ` +
    'ROLLBACK STOPS THE EXPERIMENT, NOT WHAT THE DOCUMENT HAS DONE';
  if (!documentArn) return unknown('no documentArn parameter');
  const documentName = documentArn.split(':document/').at(-1) ?? documentArn;
  // The SSM endpoint: its own override, else FIS's (an emulator answers for every service).
  const ssm = new SSMClient({
    region: fault.region,
    endpoint: process.env.AWS_ENDPOINT_URL_SSM || fault.endpoint,
    maxAttempts: 1,
  });
  try {
    const answer = await ssm.send(new GetDocumentCommand({ Name: documentName }));
    const content = parse(answer.Content ?? '') as {
      description?: string;
      mainSteps?: { name?: string; action?: string; inputs?: { Service?: string; Api?: string } }[];
    };
    const steps = (content?.mainSteps ?? []).map((step) => {
      const api = step.inputs?.Service && step.inputs.Api ? ` ${step.inputs.Service}:${step.inputs.Api}` : '';
      return `${step.name} ${step.action}${api}`;
    });
    return `runs SSM ${answer.DocumentType ?? ''} document ${documentName} (${steps.length} steps): ${steps.join('; ') || 'none'}`;
  } catch (error) {
    return unknown(`${(error as Error).name}: ${(error as Error).message}`.slice(0, 200));
  } finally {
    ssm.destroy();
  }
}

/** What a target matches now; for EC2 instances and Spot Instances, exactly which (FIS picks among them at start). */
async function targetText(
  fault: FisHandle,
  faultName: string,
  name: string,
  target: FisTargetView,
): Promise<string> {
  const mode = target.selectionMode ?? 'ALL';
  const by = target.resourceArns?.length
    ? target.resourceArns.join(', ')
    : `tagged ${JSON.stringify(target.resourceTags ?? {})}${target.filters?.length ? ` filtered ${JSON.stringify(target.filters)}` : ''}`;
  if (!INSTANCE_RESOURCE_TYPES.includes(target.resourceType ?? ''))
    return `${target.resourceType} ${by} (${mode})`;
  const { ids, missing } = await matchInstanceTarget(fault, target, `fault ${faultName}: FIS target ${name}`);
  const kind = target.resourceType === 'aws:ec2:spot-instance' ? 'Spot Instances' : 'instances';
  const gone = missing.length ? `; DOES NOT EXIST (not locked): ${missing.join(', ')}` : '';
  return `${mode} of ${ids.length} ${kind} ${by}: ${ids.join(', ') || 'none'}${gone}`;
}

/** Asks FIS's own ListActions whether it has every action; falls back to the shipped catalogue. */
async function actionsCheckLine(location: AwsLocationPlan, actionIds: string[]): Promise<string> {
  const fis = new FisClient({ region: location.region, endpoint: location.endpoint, maxAttempts: 1 });
  const known = new Set<string>();
  try {
    let nextToken: string | undefined;
    do {
      const page = await fis.send(new ListActionsCommand({ nextToken }), {
        abortSignal: AbortSignal.timeout(5_000),
      });
      for (const action of page.actions ?? []) if (action.id) known.add(action.id);
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (error) {
    return (
      `  actions checked against gameday's copy of FIS's actions reference (${FIS_CATALOGUE_DATE}); ` +
      `FIS's ListActions did not answer (${(error as Error).name})`
    );
  } finally {
    fis.destroy();
  }
  const missing = actionIds.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw refused(
      `FIS in ${location.region} has no action ${missing.join(', ')} (its ListActions lists ${known.size}); nothing was run`,
    );
  }
  return `  actions checked against FIS's ListActions in ${location.region}: all ${actionIds.length} exist`;
}
