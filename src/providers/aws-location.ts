/**
 * Where each AWS service is for a run, decided at plan time (pure). The environment wins over the
 * file, as with the AWS CLI (AWS_REGION, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), but the
 * region must still be one of target.regions.
 */
import { z } from 'zod';
import type { AwsSettings } from '../experiment/aws-schema';
import { PlanRefused } from '../experiment/plan-refused';

/** Where an AWS API is, in a handle: the region, and an endpoint only when it is not AWS's own (emulators). */
export const AwsLocation = { region: z.string(), endpoint: z.string().optional() };

export interface AwsLocationPlan {
  region: string;
  /** Absent means AWS's own endpoint for the region. */
  endpoint?: string;
}

export type AwsService = 'ec2' | 'fis' | 'sts' | 'dynamodb' | 'route53' | 'cloudwatch';

/** The service's part of AWS_ENDPOINT_URL_<SERVICE>, as the SDKs spell it (Route 53's has a space). */
const ENDPOINT_ENV: Record<AwsService, string> = {
  ec2: 'EC2',
  fis: 'FIS',
  sts: 'STS',
  dynamodb: 'DYNAMODB',
  route53: 'ROUTE_53',
  cloudwatch: 'CLOUDWATCH',
};

export interface AwsLocator {
  location(service: AwsService): AwsLocationPlan;
  region(): string;
  /** Whether anything asked where AWS is: the run then checks its account first. */
  used(): boolean;
}

export function awsLocator(
  settings: AwsSettings | undefined,
  allowedRegions: string[] | undefined,
  env: Record<string, string | undefined>,
): AwsLocator {
  let used = false;
  const region = () => {
    used = true;
    const resolved = env.AWS_REGION || settings?.region;
    if (!resolved) throw new PlanRefused('AWS faults and probes need settings.aws.region (or AWS_REGION)');
    if (allowedRegions && !allowedRegions.includes(resolved)) {
      throw new PlanRefused(
        `region ${resolved} is not in target.regions (${allowedRegions.join(', ')}); nothing was run`,
      );
    }
    return resolved;
  };
  return {
    region,
    used: () => used,
    location(service) {
      const endpoint =
        env[`AWS_ENDPOINT_URL_${ENDPOINT_ENV[service]}`] ||
        settings?.endpoints?.[service] ||
        env.AWS_ENDPOINT_URL ||
        settings?.endpoint;
      return { region: region(), ...(endpoint ? { endpoint } : {}) };
    },
  };
}
