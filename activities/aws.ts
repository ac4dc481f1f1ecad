/**
 * What every AWS activity shares: SDK clients per region and endpoint (credentials from the
 * worker's default chain, never from the plan), the line between errors worth retrying and errors
 * that will not change, and waiting for a state with heartbeats.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { FisClient } from '@aws-sdk/client-fis';
import { STSClient } from '@aws-sdk/client-sts';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AwsLocationPlan } from '../src/experiment/plan';

type ClientClass<C> = new (config: { region: string; endpoint?: string; maxAttempts?: number }) => C;

const clients = new Map<string, unknown>();

function client<C>(Class: ClientClass<C>, location: AwsLocationPlan): C {
  const key = `${Class.name}|${location.region}|${location.endpoint ?? ''}`;
  let existing = clients.get(key) as C | undefined;
  if (!existing) {
    // The SDK retries throttling and 5xx answers itself (standard mode, with backoff); the
    // activity's own retries come on top for what outlasts those.
    existing = new Class({ region: location.region, endpoint: location.endpoint, maxAttempts: 4 });
    clients.set(key, existing);
  }
  return existing;
}

export const ec2Client = (location: AwsLocationPlan) => client(EC2Client, location);
export const fisClient = (location: AwsLocationPlan) => client(FisClient, location);
export const stsClient = (location: AwsLocationPlan) => client(STSClient, location);
export const dynamoClient = (location: AwsLocationPlan) => client(DynamoDBClient, location);

interface AwsError {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const DENIED =
  /AccessDenied|UnauthorizedOperation|NotAuthorized|Forbidden|InvalidClientTokenId|ExpiredToken|UnrecognizedClient/;
const THROTTLED = /Throttl|RequestLimitExceeded|TooManyRequests|SlowDown|RequestThrottled/;

/** An AWS error as a Temporal failure: retryable when waiting can fix it, otherwise final and clear. */
export function awsFailure(error: unknown, what: string): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const aws = error as AwsError;
  const code = aws.name ?? 'Error';
  const status = aws.$metadata?.httpStatusCode;
  const message = `${what}: ${code}: ${aws.message ?? String(error)}`;
  if (code === 'CredentialsProviderError') {
    return ApplicationFailure.nonRetryable(
      `${what}: no AWS credentials: the SDK's default chain found none (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, an instance role)`,
      'AwsNoCredentials',
    );
  }
  if (DENIED.test(code)) {
    return ApplicationFailure.nonRetryable(
      `${message} (the worker's AWS identity is not allowed to do this; experiments/aws/README.md lists the permissions)`,
      'AwsAccessDenied',
    );
  }
  const transient =
    THROTTLED.test(code) ||
    aws.$fault === 'server' ||
    aws.$retryable !== undefined ||
    (status !== undefined && status >= 500) ||
    status === undefined; // no answer at all: a network error
  return transient
    ? ApplicationFailure.retryable(message, 'AwsTransient')
    : ApplicationFailure.nonRetryable(message, 'AwsRefused');
}

/** Calls AWS, turning its errors into failures that say what was being done. */
export async function aws<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw awsFailure(error, what);
  }
}

export function isNotFound(error: unknown): boolean {
  const name = (error as AwsError).name ?? '';
  return /NotFound/.test(name) || (error as ApplicationFailure).message?.includes('NotFound') === true;
}

/**
 * Polls until `check` returns a value, heartbeating so a dead worker is noticed; gives up after
 * `timeoutMs` with a failure that says what was awaited.
 */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const cancelled = activityContext()?.cancellationSignal;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw ApplicationFailure.retryable(
        `timed out after ${timeoutMs}ms waiting for ${what}`,
        'AwsWaitTimeout',
      );
    // An attempt Temporal gave up on (timed out, or cancelled) must stop polling AWS: abandoned
    // pollers would eat the account's API rate limit.
    if (cancelled?.aborted) throw cancelled.reason;
    activityContext()?.heartbeat();
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The current activity's context, or none when called from the CLI (gameday plan). */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
