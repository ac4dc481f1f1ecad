/** The `dynamodb` probe: one GetItem, PutItem or Query per sample, timed like an HTTP request. */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { formatDuration } from '../../experiment/duration';
import type { DynamoDbProbePlan } from '../../experiment/plan';
import { dynamodb } from '../aws';
import type { Sample } from '../probe-kind';
import { describeFetchError } from './http';

type Item = Record<string, AttributeValue>;

export async function sampleDynamoDb(probe: DynamoDbProbePlan, signal?: AbortSignal): Promise<Sample> {
  const at = Date.now();
  const started = performance.now();
  const timeout = AbortSignal.timeout(probe.timeoutMs);
  const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const { sdk, client: db } = await dynamodb(probe);
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
