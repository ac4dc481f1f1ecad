/** The `dynamodb` probe: one GetItem, PutItem or Query per sample, timed like an HTTP request. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { dynamoProbeIssues } from '../../experiment/aws-checks';
import { DynamoDbProbe } from '../../experiment/aws-schema';
import { formatDuration, parseDuration } from '../../experiment/duration';
import { dynamodb as dynamodbApi } from '../aws';
import type { AwsLocationPlan } from '../aws-location';
import type { ProbeKind, Sample } from '../probe-kind';
import { describeFetchError } from './http';

export interface DynamoDbProbePlan extends AwsLocationPlan {
  table: string;
  operation: 'GetItem' | 'PutItem' | 'Query';
  key?: Record<string, unknown>;
  item?: Record<string, unknown>;
  keyCondition?: string;
  values?: Record<string, unknown>;
  timeoutMs: number;
}

type Item = Record<string, AttributeValue>;

export async function sampleDynamoDb(probe: DynamoDbProbePlan, signal?: AbortSignal): Promise<Sample> {
  const at = Date.now();
  const started = performance.now();
  const timeout = AbortSignal.timeout(probe.timeoutMs);
  const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const { sdk, client: db } = await dynamodbApi(probe);
    if (probe.operation === 'PutItem') {
      await db.send(new sdk.PutItemCommand({ TableName: probe.table, Item: probe.item as Item }), {
        abortSignal,
      });
    } else if (probe.operation === 'Query') {
      await db.send(
        new sdk.QueryCommand({
          TableName: probe.table,
          KeyConditionExpression: probe.keyCondition,
          ExpressionAttributeValues: probe.values as Item | undefined,
          Limit: 1,
        }),
        { abortSignal },
      );
    } else {
      await db.send(new sdk.GetItemCommand({ TableName: probe.table, Key: probe.key as Item }), {
        abortSignal,
      });
    }
    return { at, ok: true, latencyMs: performance.now() - started };
  } catch (error) {
    // A DynamoDB answer has an error name of its own; a network failure only a Node error code.
    const answered =
      (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined;
    const message = timeout.aborted
      ? `timeout after ${formatDuration(probe.timeoutMs)}`
      : answered
        ? `${(error as Error).name}: ${(error as Error).message}`
        : describeFetchError(error);
    return { at, ok: false, latencyMs: performance.now() - started, error: message };
  }
}

export const dynamodb = {
  spec: DynamoDbProbe,
  usesAws: true,
  measures: 'latency',
  issues: (raw, path) => dynamoProbeIssues(raw, path),
  plan: (spec, ctx): DynamoDbProbePlan => {
    const { timeout, ...request } = spec;
    return { ...ctx.aws.location('dynamodb'), ...request, timeoutMs: parseDuration(timeout) };
  },
  sample: (plan, signal) => sampleDynamoDb(plan, signal),
  timeoutMs: (plan) => plan.timeoutMs,
  describe: (plan) => `dynamodb ${plan.operation} ${plan.table}`,
} satisfies ProbeKind<typeof DynamoDbProbe, DynamoDbProbePlan>;
