/** The lab's count of failed AWS calls names the class a client's dashboard tells apart. */
import { Agent } from 'node:http';
import type { LookupFunction } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { countAwsErrors, registry } from '../../src/lab/metrics';

// What the lab's DNS cache passes on while DynamoDB's name is void: Node's own resolver error.
const voidName: LookupFunction = (hostname, _options, callback) =>
  callback(
    Object.assign(new Error(`queryA ENODATA ${hostname}`), { code: 'ENODATA', syscall: 'queryA', hostname }),
    '',
    4,
  );

describe('countAwsErrors', () => {
  it('counts a DynamoDB call whose name did not resolve by its code, ENODATA', async () => {
    const dynamo = countAwsErrors(
      'orders-test',
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint: 'http://dynamodb.us-east-1.amazonaws.com:1',
        credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
        maxAttempts: 1,
        requestHandler: { httpAgent: new Agent({ lookup: voidName }) },
      }),
    );
    const call = dynamo.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'seed-1' } } }));
    await expect(call).rejects.toMatchObject({ name: 'Error', code: 'ENODATA' });
    const text = await registry.metrics();
    expect(text).toContain('gameday_lab_aws_errors_total{service="orders-test",error="ENODATA"} 1');
  });
});
