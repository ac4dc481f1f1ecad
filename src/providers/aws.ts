/**
 * What every AWS provider and probe shares: SDK clients per region and endpoint (credentials from
 * the worker's default chain, never from the plan), loaded only when first used so that nothing
 * that merely reads an experiment loads an SDK; the line between errors worth retrying
 * (unavailable) and errors that will not change (refused); and waiting for a state.
 */
import type { AwsLocationPlan } from './aws-location';
import { ProviderFailure, refused, unavailable } from './fault-provider';

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

/** The EC2 SDK module and a client for the location. */
export async function ec2(location: AwsLocationPlan) {
  const sdk = await import('@aws-sdk/client-ec2');
  return { sdk, client: client(sdk.EC2Client, location) };
}
export async function fis(location: AwsLocationPlan) {
  const sdk = await import('@aws-sdk/client-fis');
  return { sdk, client: client(sdk.FisClient, location) };
}
export async function sts(location: AwsLocationPlan) {
  const sdk = await import('@aws-sdk/client-sts');
  return { sdk, client: client(sdk.STSClient, location) };
}
export async function route53(location: AwsLocationPlan) {
  const sdk = await import('@aws-sdk/client-route-53');
  return { sdk, client: client(sdk.Route53Client, location) };
}
export async function dynamodb(location: AwsLocationPlan) {
  const sdk = await import('@aws-sdk/client-dynamodb');
  return { sdk, client: client(sdk.DynamoDBClient, location) };
}
export async function cloudwatch(location: AwsLocationPlan) {
  const sdk = await import('@aws-sdk/client-cloudwatch');
  return { sdk, client: client(sdk.CloudWatchClient, location) };
}

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

/** An AWS error as one of the two failure kinds: unavailable when waiting can fix it, else refused. */
export function awsFailure(error: unknown, what: string): Error {
  if (error instanceof ProviderFailure) return error;
  // The engine's own failures (a stale attempt) pass through as they are.
  if ((error as Error).name === 'ApplicationFailure') return error as Error;
  const aws = error as AwsError;
  const code = aws.name ?? 'Error';
  const status = aws.$metadata?.httpStatusCode;
  const message = `${what}: ${code}: ${aws.message ?? String(error)}`;
  if (code === 'CredentialsProviderError') {
    return refused(
      `${what}: no AWS credentials: the SDK's default chain found none (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, an instance role)`,
    );
  }
  if (DENIED.test(code)) {
    return refused(
      `${message} (the worker's AWS identity is not allowed to do this; experiments/aws/README.md lists the permissions)`,
    );
  }
  const transient =
    THROTTLED.test(code) ||
    aws.$fault === 'server' ||
    aws.$retryable !== undefined ||
    (status !== undefined && status >= 500) ||
    status === undefined; // no answer at all: a network error
  return transient ? unavailable(message) : refused(message);
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
  return /NotFound/.test(name) || (error as Error).message?.includes('NotFound') === true;
}

/**
 * Polls until `check` returns a value; gives up after `timeoutMs` with a failure that says what was
 * awaited. The activity heartbeats on its own ticker meanwhile (activities/liveness.ts).
 */
export async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  signal?: AbortSignal,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw unavailable(`timed out after ${timeoutMs}ms waiting for ${what}`);
    // An attempt Temporal gave up on (timed out, or cancelled) must stop polling AWS: abandoned
    // pollers would eat the account's API rate limit.
    if (signal?.aborted) throw signal.reason;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
