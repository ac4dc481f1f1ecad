/**
 * The builds of the lab's orders system. Each switch is one lesson of October 20: the fragile
 * build has none of them, the hardened build has all, so the same outage shows what each is worth;
 * the multi-region build answers DynamoDB's absence with a second region instead.
 */
export interface Build {
  name: BuildName;
  orders: {
    /** Serve the last value read or written when DynamoDB does not answer (static stability). */
    staleReads: boolean;
    /** Accept writes into a queue when DynamoDB does not answer, and flush them later. */
    writeQueue: boolean;
    /** How long one DynamoDB call may take, and how many times it is retried (with jitter). */
    dynamoTimeoutMs: number;
    dynamoRetries: number;
    /** A health check that asks DynamoDB too: the whole fleet fails it when DynamoDB is gone. */
    deepHealthCheck: boolean;
    /**
     * DynamoDB's name is cached for its TTL either way; past the TTL, while the name does not
     * resolve, the last good answer is served for at most this long (stale-if-error; 0: never).
     */
    dnsStaleIfErrorMs: number;
    /**
     * Fail reads and writes over to the lab's second region when us-east-1's DynamoDB does not
     * answer, and back once it has answered this many checks in a row (region-failover.ts).
     */
    failover?: { region: 'us-west-2'; checkEveryMs: number; failbackAfterChecks: number };
  };
  loadBalancer: {
    /** How often each target is checked. */
    healthCheckIntervalMs: number;
    /** New targets take traffic before they pass a health check. */
    newTargetsHealthy: boolean;
    healthyThreshold: number;
    unhealthyThreshold: number;
    /** With every target unhealthy, route to all of them anyway (as AWS load balancers do). */
    failOpen: boolean;
    /** Try the other targets, each once, when a connection to one fails. */
    retryOnConnectionError: boolean;
  };
  autoscaler: {
    /** How long one EC2 API call may take. */
    callTimeoutMs: number;
    /**
     * Exponential backoff with jitter between failed calls, instead of retrying at once; a
     * RequestLimitExceeded backs off from a longer base (EC2's own advice for throttling).
     */
    backoff: boolean;
    /**
     * While launches fail for lack of capacity (InsufficientInstanceCapacity), keep the size and
     * terminate nothing. Without it the autoscaler shrinks to what it has, and then terminates the
     * capacity that comes back: the scale-in October 20 punished.
     */
    holdSizeWithoutCapacity: boolean;
  };
}

export type BuildName = 'fragile' | 'hardened' | 'multi-region';

/** The hardened build's load balancer and autoscaler, which the multi-region build shares. */
const HARDENED_LOAD_BALANCER: Build['loadBalancer'] = {
  healthCheckIntervalMs: 1_000,
  newTargetsHealthy: false,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  failOpen: true,
  retryOnConnectionError: true,
};
const HARDENED_AUTOSCALER: Build['autoscaler'] = {
  callTimeoutMs: 5_000,
  backoff: true,
  holdSizeWithoutCapacity: true,
};

export const BUILDS: Record<BuildName, Build> = {
  fragile: {
    name: 'fragile',
    orders: {
      staleReads: false,
      writeQueue: false,
      dynamoTimeoutMs: 2_000,
      dynamoRetries: 0,
      deepHealthCheck: true,
      dnsStaleIfErrorMs: 0,
    },
    loadBalancer: {
      healthCheckIntervalMs: 2_000,
      newTargetsHealthy: true,
      healthyThreshold: 1,
      unhealthyThreshold: 2,
      failOpen: false,
      retryOnConnectionError: false,
    },
    autoscaler: { callTimeoutMs: 1_000, backoff: false, holdSizeWithoutCapacity: false },
  },
  hardened: {
    name: 'hardened',
    orders: {
      staleReads: true,
      writeQueue: true,
      dynamoTimeoutMs: 300,
      dynamoRetries: 2,
      deepHealthCheck: false,
      // Longer than any void the lab plays, short enough that a name gone for good is noticed.
      dnsStaleIfErrorMs: 10 * 60_000,
    },
    loadBalancer: HARDENED_LOAD_BALANCER,
    autoscaler: HARDENED_AUTOSCALER,
  },
  // The hardened build's fleet, with another region instead of a cache and a queue: DynamoDB gone
  // in us-east-1 is DynamoDB in us-west-2, and what replication had not copied there is the cost.
  'multi-region': {
    name: 'multi-region',
    orders: {
      staleReads: false,
      writeQueue: false,
      dynamoTimeoutMs: 300,
      dynamoRetries: 2,
      deepHealthCheck: false,
      // A void name must be seen as void, so that the calls move to the other region.
      dnsStaleIfErrorMs: 0,
      failover: { region: 'us-west-2', checkEveryMs: 500, failbackAfterChecks: 3 },
    },
    loadBalancer: HARDENED_LOAD_BALANCER,
    autoscaler: HARDENED_AUTOSCALER,
  },
};

export function isBuildName(name: string): name is BuildName {
  return name in BUILDS;
}
