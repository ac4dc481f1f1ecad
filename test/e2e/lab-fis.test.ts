/**
 * FIS in the lab, end to end: an experiment started at the lab's AWS endpoint (as gameday and the
 * AWS CLI would start it) reaches the lab's autoscaler through its role, and the lab's fleet in moto.
 */
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateExperimentTemplateCommand,
  FisClient,
  StartExperimentCommand,
  StopExperimentCommand,
} from '@aws-sdk/client-fis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AUTOSCALING_ROLE, FIS_ROLE } from '../../src/lab/aws-identities';
import { labStatus } from '../../src/lab/lab';
import { waitFor } from '../helpers';
import { startLab } from '../lab-helpers';

type Status = { autoscaler: { launched: number; terminated: number; errors: Record<string, number> } };

describe('the lab under FIS', () => {
  it('a running lease-collapse experiment stops a host and fails the autoscaler launches with InsufficientInstanceCapacity, until stopped', async () => {
    const lab = await startLab('hardened');
    const aws = {
      region: 'us-east-1',
      endpoint: lab.endpoints.aws,
      credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
    };
    const fis = new FisClient(aws);
    const running = async () => {
      const answer = await new EC2Client(aws).send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag:app', Values: ['orders'] },
            { Name: 'instance-state-name', Values: ['running'] },
          ],
        }),
      );
      return (answer.Reservations ?? []).flatMap((r) => r.Instances ?? []).length;
    };
    const template = await fis.send(
      new CreateExperimentTemplateCommand({
        description: 'Oct 20 P2 in the lab',
        roleArn: FIS_ROLE,
        stopConditions: [{ source: 'none' }],
        targets: {
          'autoscaling-role': {
            resourceType: 'aws:iam:role',
            resourceArns: [AUTOSCALING_ROLE],
            selectionMode: 'ALL',
          },
          'orders-instances': {
            resourceType: 'aws:ec2:instance',
            resourceTags: { app: 'orders' },
            selectionMode: 'COUNT(1)',
          },
        },
        actions: {
          'insufficient-capacity': {
            actionId: 'aws:ec2:api-insufficient-instance-capacity-error',
            parameters: { availabilityZoneIdentifiers: 'us-east-1a', percentage: '100', duration: 'PT10M' },
            targets: { Roles: 'autoscaling-role' },
          },
          'lose-a-host': { actionId: 'aws:ec2:stop-instances', targets: { Instances: 'orders-instances' } },
        },
      }),
    );
    const started = await fis.send(
      new StartExperimentCommand({ experimentTemplateId: template.experimentTemplate?.id }),
    );
    const id = started.experiment?.id ?? '';
    onTestFinished(async () => {
      await fis.send(new StopExperimentCommand({ id }));
    });

    const status = async () => (await labStatus(lab)) as Status;
    await waitFor(async () => ((await status()).autoscaler.errors.InsufficientInstanceCapacity ?? 0) >= 2, {
      what: 'the autoscaler to fail to launch for lack of capacity',
    });
    expect(await running()).toBe(lab.size - 1);

    const launched = (await status()).autoscaler.launched;
    await fis.send(new StopExperimentCommand({ id }));
    await waitFor(
      async () => (await status()).autoscaler.launched > launched && (await running()) === lab.size,
      {
        what: 'the autoscaler to replace the host once capacity is back',
      },
    );
    expect((await status()).autoscaler.terminated).toBe(0);
  });
});
