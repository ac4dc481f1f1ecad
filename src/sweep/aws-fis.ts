/**
 * FIS's marks: the experiments a run starts carry its `gameday:run-id` and `gameday:fault` tags
 * (src/experiment/plan.ts). One still running, whose run is gone, is stopped; an experiment
 * without those tags is not gameday's.
 */
import type { ExperimentSummary } from '@aws-sdk/client-fis';
import type { AwsLocationPlan } from '../experiment/plan';
import { aws, fis } from '../providers/aws';
import { revertFis } from '../providers/faults/aws-fis';
import type { MarkedFault, SweepSource } from './marks';

const LIVE = ['pending', 'initiating', 'running'];
const WAIT_FOR_MS = 120_000;

export function fisSource(location: AwsLocationPlan): SweepSource {
  return {
    name: `FIS in ${location.region}${location.endpoint ? ` at ${location.endpoint}` : ''}`,
    async find() {
      const experiments: ExperimentSummary[] = [];
      let nextToken: string | undefined;
      const { sdk, client } = await fis(location);
      do {
        const page = await aws('fis ListExperiments', () =>
          client.send(new sdk.ListExperimentsCommand({ nextToken })),
        );
        experiments.push(...(page.experiments ?? []));
        nextToken = page.nextToken;
      } while (nextToken);
      return experiments.flatMap((experiment): MarkedFault[] => {
        const runId = experiment.tags?.['gameday:run-id'];
        const fault = experiment.tags?.['gameday:fault'] ?? null;
        const id = experiment.id;
        if (!runId || !id || !LIVE.includes(experiment.state?.status ?? '')) return [];
        return [
          {
            provider: 'awsFis',
            runId,
            fault,
            target: `FIS experiment ${id}`,
            what: `FIS experiment ${id} ${experiment.state?.status} (template ${experiment.experimentTemplateId ?? '?'})`,
            revert: async () => {
              const { alreadyGone } = await revertFis({
                ...location,
                templateId: experiment.experimentTemplateId ?? null,
                // The run's own template, if it made one, is left: only the experiment is a fault.
                template: null,
                clientToken: '',
                tags: { 'gameday:run-id': runId, ...(fault ? { 'gameday:fault': fault } : {}) },
                waitForMs: WAIT_FOR_MS,
                experimentId: id,
                createdTemplateId: null,
                irreversible: false,
                matched: null,
              });
              return alreadyGone ? `FIS experiment ${id} had already ended` : `stopped FIS experiment ${id}`;
            },
          },
        ];
      });
    },
  };
}
