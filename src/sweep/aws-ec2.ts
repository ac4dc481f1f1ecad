/**
 * EC2's marks: instances a run stopped carry the `gameday:stopped-by` tag (src/providers/faults/aws-ec2.ts)
 * until its revert starts them. A stopped instance without the tag is not gameday's.
 */

import type { AwsLocationPlan } from '../experiment/plan';
import { describeInstances, revertEc2, STOPPED_BY_TAG } from '../providers/faults/aws-ec2';
import type { MarkedFault, SweepSource } from './marks';

/** How long a revert waits for the instances it starts to run. */
const WAIT_FOR_MS = 120_000;

export function ec2Source(location: AwsLocationPlan): SweepSource {
  return {
    name: `EC2 in ${location.region}${location.endpoint ? ` at ${location.endpoint}` : ''}`,
    async find() {
      const stopped = await describeInstances(
        location,
        { filters: [{ name: 'tag-key', values: [STOPPED_BY_TAG] }] },
        ['stopping', 'stopped'],
      );
      return stopped.flatMap((instance): MarkedFault[] => {
        const tag = (key: string) => instance.Tags?.find((t) => t.Key === key)?.Value;
        const runId = tag(STOPPED_BY_TAG);
        const id = instance.InstanceId;
        if (!runId || !id) return [];
        const fault = tag('gameday:fault') ?? null;
        return [
          {
            provider: 'awsEc2',
            runId,
            fault,
            target: `instance ${id}`,
            what: `instance ${id} ${instance.State?.Name ?? 'stopped'} (stopped by the run)`,
            revert: async () => {
              const { alreadyGone } = await revertEc2({
                ...location,
                action: 'stop',
                selector: { instanceIds: [id] },
                selection: 'ALL',
                allowEmpty: false,
                waitForMs: WAIT_FOR_MS,
                seed: `${runId}/${fault ?? ''}`,
                // Stopped by that run from running: what the revert restores.
                instances: [{ id, priorState: 'running' }],
                candidates: 1,
                matched: [id],
              });
              return alreadyGone ? `instance ${id} was already running` : `started instance ${id}`;
            },
          },
        ];
      });
    },
  };
}
