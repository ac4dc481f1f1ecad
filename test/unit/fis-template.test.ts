/** The fields of CreateExperimentTemplate, as FIS's API and the pinned SDK define them. */
import type { CreateExperimentTemplateCommandInput } from '@aws-sdk/client-fis';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { FisTemplate, mergedTags } from '../../src/experiment/fis-template';
import { ExperimentError, parseExperiment } from '../../src/experiment/load';

const template = {
  description: 'Stop a quarter of the fleet',
  roleArn: 'arn:aws:iam::123456789012:role/fis',
  targets: {
    fleet: {
      resourceType: 'aws:ec2:instance',
      resourceTags: { app: 'orders' },
      selectionMode: 'PERCENT(25)',
    },
  },
  actions: { stop: { actionId: 'aws:ec2:stop-instances', targets: { Instances: 'fleet' } } },
  stopConditions: [{ source: 'none' }],
  tags: { Name: 'stop-a-quarter', team: 'orders' },
  logConfiguration: {
    logSchemaVersion: 2,
    cloudWatchLogsConfiguration: { logGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/fis:*' },
  },
  experimentOptions: { accountTargeting: 'single-account', emptyTargetResolutionMode: 'fail' },
  experimentReportConfiguration: {
    outputs: { s3Configuration: { bucketName: 'fis-reports', prefix: 'orders' } },
    dataSources: {
      cloudWatchDashboards: [{ dashboardIdentifier: 'arn:aws:cloudwatch::123456789012:dashboard/orders' }],
    },
    preExperimentDuration: 'PT5M',
    postExperimentDuration: 'PT5M',
  },
};

function problems(fisTemplate: object): string[] {
  const source = JSON.stringify({
    version: 1,
    name: 'fis',
    description: 'd',
    target: { environment: 'staging' },
    settings: { aws: { region: 'us-east-1' } },
    steadyState: [{ name: 'ok', http: { url: 'http://127.0.0.1:9/' } }],
    phases: [{ name: 'p', duration: '1m', faults: [{ name: 'f', awsFis: { template: fisTemplate } }] }],
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

describe('an inline FIS template', () => {
  it('takes every field of CreateExperimentTemplate: tags, log, options and the report configuration', () => {
    expect(problems(template)).toEqual([]);
  });

  it('refuses what FIS would: a key it does not have, at its location, and a field of the wrong type', () => {
    expect(
      problems({
        ...template,
        actions: { stop: { ...template.actions.stop, startAfterDelay: 'PT5M' } },
        experimentReportConfiguration: { outputs: { s3Configuration: {} } },
        tags: { Name: 7 },
      }),
    ).toEqual([
      `${at}.actions.stop.startAfterDelay  unknown key "startAfterDelay"`,
      `${at}.tags.Name  expected string, got number 7`,
      `${at}.experimentReportConfiguration.outputs.s3Configuration.bucketName  missing (expected string)`,
    ]);
  });
});

describe('the template schema', () => {
  it("has the SDK input's keys (less the run's client token) and the API reference's report configuration", () => {
    // Checked by tsc: a field the SDK gains and the schema lacks fails to compile here and in fis-template.ts.
    expectTypeOf<keyof z.input<typeof FisTemplate>>().toEqualTypeOf<
      Exclude<keyof CreateExperimentTemplateCommandInput, 'clientToken'> | 'experimentReportConfiguration'
    >();
    expect(Object.keys(FisTemplate.shape).sort()).toEqual([
      'actions',
      'description',
      'experimentOptions',
      'experimentReportConfiguration',
      'logConfiguration',
      'roleArn',
      'stopConditions',
      'tags',
      'targets',
    ]);
  });
});

describe("the run's template tags", () => {
  it("keep the user's and put gameday's run tags on top, saying which they replaced", () => {
    expect(
      mergedTags(
        { Name: 'mine', 'gameday:run-id': 'spoofed' },
        { 'gameday:run-id': 'run-1', 'gameday:fault': 'f' },
      ),
    ).toEqual({
      tags: { Name: 'mine', 'gameday:run-id': 'run-1', 'gameday:fault': 'f' },
      overridden: ['gameday:run-id'],
    });
    expect(mergedTags(undefined, { 'gameday:run-id': 'run-1' })).toEqual({
      tags: { 'gameday:run-id': 'run-1' },
      overridden: [],
    });
  });
});
