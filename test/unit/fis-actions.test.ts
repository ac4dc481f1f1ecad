/** What FIS would refuse in a template's actions, refused first, at the field; and what cannot be undone. */
import { describe, expect, it } from 'vitest';
import { IRREVERSIBLE_ACTIONS } from '../../src/experiment/fis-actions';
import { ExperimentError, parseExperiment } from '../../src/experiment/load';

const instances = {
  resourceType: 'aws:ec2:instance',
  resourceTags: { app: 'orders' },
  selectionMode: 'COUNT(1)',
};

function problems(
  actions: Record<string, object>,
  targets: Record<string, object> = { fleet: instances },
  irreversible = false,
): string[] {
  const source = JSON.stringify({
    version: 1,
    name: 'fis',
    description: 'd',
    target: { environment: 'staging' },
    settings: { aws: { region: 'us-east-1' } },
    steadyState: [{ name: 'ok', http: { url: 'http://127.0.0.1:9/' } }],
    phases: [
      {
        name: 'p',
        duration: '1m',
        faults: [
          {
            name: 'f',
            awsFis: {
              irreversible,
              template: { description: 'd', roleArn: 'arn:aws:iam::123456789012:role/fis', targets, actions },
            },
          },
        ],
      },
    ],
  });
  try {
    parseExperiment(source, 'e.json');
  } catch (error) {
    if (error instanceof ExperimentError) return error.issues.map((i) => `${i.path}  ${i.message}`);
    throw error;
  }
  return [];
}

const at = 'phases[0].faults[0].awsFis.template';

describe("a template's actions", () => {
  it('must be actions FIS has, with a guess at the one meant', () => {
    expect(
      problems({ stop: { actionId: 'aws:ec2:stop-instancez', targets: { Instances: 'fleet' } } }),
    ).toEqual([
      `${at}.actions.stop.actionId  FIS has no action aws:ec2:stop-instancez (gameday's copy of FIS's actions reference, 2026-12-01); did you mean aws:ec2:stop-instances?`,
    ]);
    expect(
      problems({ stop: { actionId: 'aws:ec2:stop-instances', targets: { Instances: 'fleet' } } }),
    ).toEqual([]);
  });

  it('that terminate or interrupt instances need irreversible: true, as aws:ec2:terminate-instances does', () => {
    // Derived from the catalogue: the actions that need ec2:TerminateInstances or send Spot interruptions.
    expect(IRREVERSIBLE_ACTIONS.sort()).toEqual([
      'aws:ec2:send-spot-instance-interruptions',
      'aws:ec2:terminate-instances',
      'aws:eks:terminate-nodegroup-instances',
    ]);
    const nodegroup = {
      resourceType: 'aws:eks:nodegroup',
      resourceTags: { env: 'prod' },
      selectionMode: 'ALL',
    };
    const spot = {
      resourceType: 'aws:ec2:spot-instance',
      resourceTags: { app: 'orders' },
      selectionMode: 'COUNT(1)',
    };
    const destroying = {
      nodes: {
        actionId: 'aws:eks:terminate-nodegroup-instances',
        parameters: { instanceTerminationPercentage: '30' },
        targets: { Nodegroups: 'nodes' },
      },
      spot: { actionId: 'aws:ec2:send-spot-instance-interruptions', targets: { SpotInstances: 'spot' } },
    };
    expect(problems(destroying, { nodes: nodegroup, spot })).toEqual([
      `${at}.actions.nodes.actionId  aws:eks:terminate-nodegroup-instances cannot be undone (it terminates instances): set irreversible: true on the fault to confirm`,
      `${at}.actions.spot.actionId  aws:ec2:send-spot-instance-interruptions cannot be undone (it interrupts Spot Instances, which EC2 then terminates or stops): set irreversible: true on the fault to confirm`,
    ]);
    expect(problems(destroying, { nodes: nodegroup, spot }, true)).toEqual([]);
  });

  it('act on targets of a resource type they take, and a target is by ARN or by attributes, not both', () => {
    const spot = {
      resourceType: 'aws:ec2:spot-instance',
      resourceTags: { app: 'orders' },
      selectionMode: 'ALL',
    };
    expect(
      problems({ stop: { actionId: 'aws:ec2:stop-instances', targets: { Instances: 'spot' } } }, { spot }),
    ).toEqual([
      `${at}.actions.stop.targets.Instances  aws:ec2:stop-instances acts on aws:ec2:instance, but target spot is aws:ec2:spot-instance`,
    ]);
    const both = {
      ...instances,
      resourceArns: ['arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0'],
    };
    expect(
      problems(
        { stop: { actionId: 'aws:ec2:stop-instances', targets: { Instances: 'fleet' } } },
        { fleet: both },
      ),
    ).toEqual([
      `${at}.targets.fleet.resourceArns  FIS takes a target by resourceArns or by resourceTags and filters, not both`,
    ]);
  });
});
