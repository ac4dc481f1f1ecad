/**
 * The AWS parts of the experiment file: where AWS is, the `awsEc2` and `awsFis` faults and the
 * `dynamodb` and `ec2Fleet` probes. FIS templates keep the FIS API's own field names, so a
 * template from the AWS console or docs pastes in as it is.
 */
import { z } from 'zod';
import { FisTemplate } from './fis-template';
import { Duration, HttpUrl } from './primitives';

export const AwsRegion = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as us-east-1');

export const AwsSettings = z
  .strictObject({
    region: AwsRegion.describe('AWS_REGION overrides; it must still be in target.regions'),
    endpoint: HttpUrl.optional().describe(
      'One endpoint for every AWS service (emulators); AWS_ENDPOINT_URL overrides',
    ),
    endpoints: z
      .strictObject({
        ec2: HttpUrl.optional(),
        fis: HttpUrl.optional(),
        sts: HttpUrl.optional(),
        dynamodb: HttpUrl.optional(),
        route53: HttpUrl.optional(),
        cloudwatch: HttpUrl.optional(),
      })
      .optional()
      .describe('Per-service endpoints; AWS_ENDPOINT_URL_<SERVICE> overrides'),
  })
  .describe('Where AWS is. Credentials come from the SDK default chain of the worker, never from the file');

const Tags = z.record(z.string(), z.string()).describe('Tag key → value; all must match');
const Ec2Filters = z
  .array(z.strictObject({ name: z.string().min(1), values: z.array(z.string()).min(1) }))
  .describe('EC2 DescribeInstances filters');

export const SELECTION_PATTERN = /^(ALL|COUNT\((\d+)\)|PERCENT\((\d+(?:\.\d+)?)\))$/;
export const Selection = z.string().regex(SELECTION_PATTERN, 'ALL, COUNT(n) or PERCENT(n)');

export const Ec2Fault = z
  .strictObject({
    action: z.enum(['stop', 'reboot', 'terminate']),
    instanceIds: z
      .array(z.string().regex(/^i-[0-9a-f]{8,17}$/, 'an instance id like i-0abc12345'))
      .min(1)
      .optional(),
    tags: Tags.optional(),
    filters: Ec2Filters.optional(),
    selection: Selection.default('ALL').describe(
      'Which of the matching instances; chosen deterministically from the run id',
    ),
    allowEmpty: z.boolean().default(false).describe('Allow a selection that matches no instance'),
    irreversible: z
      .boolean()
      .default(false)
      .describe('Required for terminate: terminated instances cannot be brought back'),
    waitFor: Duration.default('5m').describe(
      'How long inject and revert wait for instances to reach their state',
    ),
  })
  .describe('Stop, reboot or terminate EC2 instances; revert starts the instances this run stopped');

export const FisFault = z
  .strictObject({
    templateId: z.string().min(1).optional().describe('An existing FIS experiment template'),
    template: FisTemplate.optional().describe('An inline template, created for the run and deleted after it'),
    irreversible: z
      .boolean()
      .default(false)
      .describe(
        'Required when the template terminates instances (aws:ec2:terminate-instances): that cannot be undone',
      ),
    waitFor: Duration.default('5m').describe(
      'How long inject and revert wait for the experiment to start or stop',
    ),
  })
  .describe('An AWS FIS experiment: started on inject, stopped on revert');

const AttributeMap = z
  .record(z.string(), z.record(z.string(), z.unknown()))
  .describe('DynamoDB attribute values, e.g. { pk: { S: x } }');

export const DynamoDbProbe = z
  .strictObject({
    table: z.string().min(1),
    operation: z.enum(['GetItem', 'PutItem', 'Query']).default('GetItem'),
    key: AttributeMap.optional().describe('GetItem: the key'),
    item: AttributeMap.optional().describe('PutItem: the item'),
    keyCondition: z.string().optional().describe('Query: KeyConditionExpression'),
    values: AttributeMap.optional().describe('Query: ExpressionAttributeValues'),
    timeout: Duration.default('2s'),
  })
  .describe('One DynamoDB request per sample, timed like an HTTP probe');

export const Ec2FleetProbe = z
  .strictObject({
    tags: Tags.optional(),
    filters: Ec2Filters.optional(),
    state: z
      .enum(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'])
      .default('running'),
    timeout: Duration.default('5s'),
  })
  .describe('Counts the matching instances in a state; expect min/max judge the count');

export type Ec2Fault = z.infer<typeof Ec2Fault>;
export type FisFault = z.infer<typeof FisFault>;
export type DynamoDbProbe = z.infer<typeof DynamoDbProbe>;
export type Ec2FleetProbe = z.infer<typeof Ec2FleetProbe>;
export type AwsSettings = z.infer<typeof AwsSettings>;
