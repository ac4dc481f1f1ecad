/**
 * `gameday plan` on templates of the FIS template library (test/fixtures/fis-templates), against
 * moto with resources that match them: a Spot target, a target by resourceArns (one of which does
 * not exist), a target with a filter, an Automation document SSM holds and one it does not, and
 * the template's own tags merged with gameday's. Then what FIS would refuse, refused at plan.
 */
import { EC2Client, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { resolveTargets } from '../../activities/prepare';
import { describePlan } from '../../src/cli/plan';
import { parseExperiment } from '../../src/experiment/load';
import { planRun } from '../../src/experiment/plan';
import type { ExperimentInput } from '../../src/experiment/schema';
import type { ProviderFailure } from '../../src/providers/fault-provider';
import { hopToMoto, MOTO_ACCOUNT, motoUrl, REGION } from '../aws-helpers';
import { filledTemplate } from '../fis-corpus';
import { gameday, uniqueName, writeExperiment } from '../helpers';

const ec2 = () => new EC2Client({ region: REGION, endpoint: motoUrl() });

async function launch(
  count: number,
  tags: Record<string, string>,
  options: { type: string; spot?: boolean },
) {
  const launched = await ec2().send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: count,
      MaxCount: count,
      InstanceType: options.type as never,
      ...(options.spot ? { InstanceMarketOptions: { MarketType: 'spot' } } : {}),
      TagSpecifications: [
        { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  const ids = (launched.Instances ?? []).map((i) => i.InstanceId ?? '').sort();
  onTestFinished(async () => {
    await ec2().send(new TerminateInstancesCommand({ InstanceIds: ids }));
  });
  return ids;
}

const arn = (id: string) => `arn:aws:ec2:${REGION}:${MOTO_ACCOUNT}:instance/${id}`;

function experiment(faults: { name: string; awsFis: object }[], maxBlastRadius = 100): ExperimentInput {
  return {
    version: 1,
    name: uniqueName('library'),
    description: 'Templates from the FIS template library, planned against moto.',
    target: { environment: 'staging', accounts: [MOTO_ACCOUNT], maxBlastRadius },
    settings: { aws: { region: REGION, endpoint: motoUrl() } },
    steadyState: [{ name: 'ok', http: { url: 'http://127.0.0.1:9/' } }],
    phases: faults.map((fault) => ({ name: fault.name, duration: '5m', faults: [fault] })),
  };
}

/** The plan a run would make, resolved in this process as `gameday plan` resolves it. */
async function planText(input: ExperimentInput, endpoint = motoUrl()): Promise<string> {
  const parsed = parseExperiment(JSON.stringify(input), 'library.json');
  const plan = planRun(parsed, {
    runId: '<runId>',
    file: 'library.json',
    sha256: '0',
    outDir: '/tmp/x',
    env: { AWS_ENDPOINT_URL: endpoint },
    validateRunId: false,
  });
  return describePlan(plan, await resolveTargets(plan));
}

describe('gameday plan on the FIS template library', () => {
  it('resolves a Spot target, resourceArns and a filter against moto, and reads what it can of SSM', async () => {
    const fisReady = { 'FIS-Ready': 'True' };
    const spot = await launch(3, fisReady, { type: 't3.small', spot: true });
    const large = await launch(4, fisReady, { type: 't3.large' });
    await launch(4, fisReady, { type: 't3.micro' });
    const [ascs] = await launch(1, { ...fisReady, 'FIS-SAP-SID': 'S4' }, { type: 'm5.large' });
    const gone = 'i-0123456789abcdef0';

    // The SSM document of the library's ElastiCache failover template, as its README deploys it.
    const documentName = 'ElastiCache-Redis-Primary-Node-Failover';
    const content = JSON.stringify(
      filledTemplate(
        'elasticache-redis-primary-node-failover/elasticache-redis-primary-node-failover-automation.json',
      ),
    );
    await new SSMClient({ region: REGION, endpoint: motoUrl() })
      .send(new CreateDocumentCommand({ Name: documentName, Content: content, DocumentType: 'Automation' }))
      .catch((error: Error) => {
        if (error.name !== 'DocumentAlreadyExists') throw error;
      });

    const spotTemplate = filledTemplate('ec2-spot-interruption/ec2-spot-interruption-template.json');
    const byArn = filledTemplate(
      'sap-ec2-instance-stop-ascs/sap-ec2-instance-stop-sap-ascs-template.json',
    ) as {
      targets: Record<string, Record<string, unknown>>;
    };
    // As in the FIS console: the resources chosen by id, not by tags.
    byArn.targets.SAPASCSERSCLUSTER = {
      resourceType: 'aws:ec2:instance',
      resourceArns: [arn(ascs ?? ''), arn(gone)],
      selectionMode: 'ALL',
    };
    const filtered = filledTemplate('ec2-instances-terminate/ec2-instances-terminate-template.json') as {
      targets: Record<string, Record<string, unknown>>;
    };
    filtered.targets['Instances-Target-1'] = {
      ...filtered.targets['Instances-Target-1'],
      filters: [{ path: 'InstanceType', values: ['t3.large'] }],
    };
    const file = await writeExperiment(
      experiment([
        { name: 'spot', awsFis: { template: spotTemplate, irreversible: true } },
        { name: 'ascs', awsFis: { template: byArn } },
        { name: 'large', awsFis: { template: filtered, irreversible: true } },
        {
          name: 'redis-failover',
          awsFis: {
            template: filledTemplate(
              'elasticache-redis-primary-node-failover/elasticache-redis-primary-node-failover-experiment-template.json',
            ),
          },
        },
        {
          name: 'cloudfront',
          awsFis: {
            template: filledTemplate(
              'cloudfront-impairment/cloudfront-impairment-tag-based-experiment-template.json',
            ),
          },
        },
      ]),
    );
    const { code, stdout, stderr } = await gameday(['plan', file], {
      AWS_ENDPOINT_URL: motoUrl(),
      AWS_REGION: REGION,
    }).done;

    expect(code, stderr).toBe(0);
    // Spot: only the Spot Instances, and in capitals that it cannot be undone.
    expect(stdout).toContain(
      `target spot-instances: ALL of 3 Spot Instances tagged {"FIS-Ready":"True"}: ${spot.join(', ')}`,
    );
    expect(stdout).toContain(
      'THIS INTERRUPTS SPOT INSTANCES, WHICH EC2 THEN TERMINATES OR STOPS. IT CANNOT BE UNDONE: ROLLBACK WILL NOT BRING THEM BACK.',
    );
    // resourceArns: the one that exists; the other reported, and not locked.
    expect(stdout).toContain(
      `target SAPASCSERSCLUSTER: ALL of 1 instances ${arn(ascs ?? '')}, ${arn(gone)}: ${ascs}`,
    );
    expect(stdout).toContain(`DOES NOT EXIST (not locked): ${gone}`);
    expect(stdout).toMatch(new RegExp(`locks while it runs: .*ec2/${REGION}/${ascs}`));
    expect(stdout).not.toMatch(new RegExp(`locks while it runs: .*${gone}`));
    // The filter: FIS's InstanceType path, which gameday used to drop (then counting all 12).
    expect(stdout).toContain(`PERCENT(25) of 4 instances tagged {"FIS-Ready":"True"} filtered`);
    expect(stdout).toContain(large.join(', '));
    expect(stdout).toContain('THIS TERMINATES INSTANCES. IT CANNOT BE UNDONE');
    // The template's own tags, under gameday's.
    expect(stdout).toContain('tags Name=interrupt-ec2-spot, gameday:run-id=<runId>, gameday:fault=spot');
    // An Automation document SSM holds, step by step; one it does not, in capitals.
    expect(stdout).toContain(
      `runs SSM Automation document ${documentName} (1 steps): triggerFailover aws:executeScript`,
    );
    expect(stdout).toContain(
      'EFFECTS UNKNOWN TO GAMEDAY: it runs SSM document arn:aws:ssm:us-east-1:123456789012:document/orders-impairment, which plan could not read',
    );
    // moto has no ListActions: the plan says what it checked the actions against instead.
    expect(stdout).toContain(
      "actions checked against gameday's copy of FIS's actions reference (2026-12-01)",
    );
  });

  it('refuses what FIS would: a Spot selection past the blast radius, a filter path it cannot apply, a target of nothing', async () => {
    const tag = { team: uniqueName('spot') };
    await launch(2, tag, { type: 't3.small', spot: true });
    const spotTemplate = {
      ...filledTemplate('ec2-spot-interruption/ec2-spot-interruption-template.json'),
      targets: {
        'spot-instances': { resourceType: 'aws:ec2:spot-instance', resourceTags: tag, selectionMode: 'ALL' },
      },
    };
    const refusal = (input: ExperimentInput) =>
      planText(input).then(
        () => 'planned',
        (error: ProviderFailure) => `${error.kind}: ${error.message}`,
      );
    expect(
      await refusal(
        experiment([{ name: 'spot', awsFis: { template: spotTemplate, irreversible: true } }], 50),
      ),
    ).toBe(
      'refused: fault spot: FIS target spot-instances selects ALL of 2 matching instances (100%), above target.maxBlastRadius 50%',
    );
    const typo = {
      ...spotTemplate,
      targets: {
        'spot-instances': {
          ...spotTemplate.targets['spot-instances'],
          filters: [{ path: 'InstanceTyp', values: ['t3.small'] }],
        },
      },
    };
    expect(
      await refusal(experiment([{ name: 'spot', awsFis: { template: typo, irreversible: true } }])),
    ).toBe(
      "refused: fault spot: FIS target spot-instances: filter path InstanceTyp: an EC2 instance has no attribute InstanceTyp; FIS applies a path to DescribeInstances' output",
    );
    const nothing = {
      ...spotTemplate,
      targets: {
        'spot-instances': { ...spotTemplate.targets['spot-instances'], resourceTags: { team: 'nobody' } },
      },
    };
    expect(
      await refusal(experiment([{ name: 'spot', awsFis: { template: nothing, irreversible: true } }])),
    ).toContain(
      'refused: fault spot: FIS target spot-instances resolves to nothing: it matches no instance; FIS fails such an experiment',
    );
  });

  it("shows the template's tags a run's template gets, and which gameday's own replaced", async () => {
    const [id] = await launch(1, { app: uniqueName('tags') }, { type: 't3.micro' });
    const template = {
      ...filledTemplate('sap-ec2-instance-stop-ascs/sap-ec2-instance-stop-sap-ascs-template.json'),
      targets: {
        one: { resourceType: 'aws:ec2:instance', resourceArns: [arn(id ?? '')], selectionMode: 'ALL' },
      },
      actions: { stop: { actionId: 'aws:ec2:stop-instances', targets: { Instances: 'one' } } },
      tags: { Name: 'EC2-Stop-SAP-ASCS', 'gameday:fault': 'mine' },
    };
    const text = await planText(experiment([{ name: 'ascs', awsFis: { template } }]));
    expect(text).toContain(
      "tags Name=EC2-Stop-SAP-ASCS, gameday:fault=ascs, gameday:run-id=<runId> (gameday's run tags win: the template's gameday:fault=mine is replaced)",
    );
  });

  it("checks the actions against FIS's own ListActions when FIS answers it", async () => {
    const [id] = await launch(1, { app: uniqueName('list') }, { type: 't3.micro' });
    // moto has no ListActions: this hop answers it as FIS in a region without Aurora DSQL would.
    const hop = await fisWithActions(['aws:ec2:stop-instances', 'aws:ec2:reboot-instances']);
    const stop = {
      description: 'Stop one instance',
      roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/fis`,
      targets: {
        one: { resourceType: 'aws:ec2:instance', resourceArns: [arn(id ?? '')], selectionMode: 'ALL' },
      },
      actions: { stop: { actionId: 'aws:ec2:stop-instances', targets: { Instances: 'one' } } },
    };
    expect(await planText(experiment([{ name: 'stop', awsFis: { template: stop } }]), hop)).toContain(
      "actions checked against FIS's ListActions in us-east-1: all 1 exist",
    );
    const dsql = {
      ...stop,
      targets: {
        db: { resourceType: 'aws:dsql:cluster', resourceTags: { app: 'orders' }, selectionMode: 'ALL' },
      },
      actions: { fail: { actionId: 'aws:dsql:cluster-connection-failure', targets: { Clusters: 'db' } } },
    };
    await expect(planText(experiment([{ name: 'dsql', awsFis: { template: dsql } }]), hop)).rejects.toThrow(
      'refused: FIS in us-east-1 has no action aws:dsql:cluster-connection-failure (its ListActions lists 2); nothing was run',
    );
  });
});

/** An HTTP hop in front of moto that answers FIS's ListActions (GET /actions), which moto lacks. */
function fisWithActions(ids: string[]): Promise<string> {
  return hopToMoto((request, _body, response) => {
    if (request.method !== 'GET' || !request.url?.startsWith('/actions')) return false;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ actions: ids.map((id) => ({ id, description: id, targets: {} })) }));
    return true;
  });
}
