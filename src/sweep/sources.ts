/** Which servers and accounts a sweep looks at: Toxiproxy by URL, AWS (EC2, FIS, Route 53) by the environment. */
import type { AwsLocationPlan } from '../experiment/plan';
import { ec2Source } from './aws-ec2';
import { fisSource } from './aws-fis';
import type { SweepSource } from './marks';
import { route53Source } from './route53';
import { toxiproxySource } from './toxiproxy';

export class SweepRefused extends Error {
  override name = 'SweepRefused';
}

export function sweepSources(
  options: { toxiproxy?: string; aws?: boolean },
  env: Record<string, string | undefined> = process.env,
): SweepSource[] {
  const sources: SweepSource[] = [];
  // Without --aws the sweep is about Toxiproxy, at its default address if nothing says otherwise.
  const toxiproxy =
    options.toxiproxy || env.TOXIPROXY_URL || (options.aws ? undefined : 'http://127.0.0.1:8474');
  if (toxiproxy) {
    try {
      new URL(toxiproxy);
    } catch {
      throw new SweepRefused(`--toxiproxy ${toxiproxy}: not a URL`);
    }
    sources.push(toxiproxySource(toxiproxy));
  }
  if (options.aws) {
    const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
    if (!region) throw new SweepRefused('--aws needs AWS_REGION: the sweep looks in one region');
    const at = (service: string): AwsLocationPlan => {
      const endpoint = env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL;
      return endpoint ? { region, endpoint } : { region };
    };
    sources.push(ec2Source(at('EC2')), fisSource(at('FIS')), route53Source(at('ROUTE_53')));
  }
  return sources;
}
