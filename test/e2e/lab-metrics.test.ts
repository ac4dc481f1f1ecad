/**
 * The lab's metrics as an SRE reads them: `gameday lab env` points at the lab's Prometheus, which
 * scrapes the load balancer and every running orders instance (requests by route and status,
 * latency histograms, AWS SDK errors by name), and follows the fleet as instances come and go.
 */
import { EC2Client, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { labEnv } from '../../src/lab/lab';
import { waitFor } from '../helpers';
import { startLab } from '../lab-helpers';

interface Target {
  labels: Record<string, string>;
  health: string;
}

async function targets(prometheus: string, job: string): Promise<Target[]> {
  const answer = await fetch(`${prometheus}/api/v1/targets?state=active`);
  const body = (await answer.json()) as { data: { activeTargets: Target[] } };
  return body.data.activeTargets.filter((t) => t.labels.job === job);
}

async function instant(
  prometheus: string,
  query: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const answer = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query })}`);
  return ((await answer.json()) as { data: { result: never[] } }).data.result;
}

describe('the lab', () => {
  it("runs a Prometheus that scrapes the fleet and the load balancer, and follows the fleet's instances", async () => {
    const lab = await startLab('hardened');
    const prometheus = labEnv(lab).PROMETHEUS_URL as string;
    expect(prometheus).toBe(lab.endpoints.prometheus);

    const ids = (
      await waitFor(
        async () => {
          const found = await targets(prometheus, 'orders');
          return found.length === lab.size && found.every((t) => t.health === 'up') ? found : undefined;
        },
        { what: `${lab.size} orders targets up`, intervalMs: 250 },
      )
    ).map((t) => t.labels.ec2_instance as string);

    for (let i = 0; i < 20; i++)
      await fetch(`${lab.endpoints.orders}/orders/seed-1`).then((r) => r.arrayBuffer());
    const served = await waitFor(
      async () => {
        const result = await instant(
          prometheus,
          'sum by (job, route, status) (gameday_lab_http_requests_total{route="GET /orders/:id"})',
        );
        return result.length >= 2 ? result : undefined;
      },
      { what: 'requests counted by the load balancer and the instances', intervalMs: 250 },
    );
    expect(served.map((s) => [s.metric.job, s.metric.status]).sort()).toEqual([
      ['load-balancer', '200'],
      ['orders', '200'],
    ]);
    const histogram = await instant(
      prometheus,
      'count(gameday_lab_http_request_duration_seconds_bucket{job="orders"}) > 0',
    );
    expect(histogram).toHaveLength(1);

    // An instance goes away (stopped in EC2): its target goes, and the one the autoscaler launches comes.
    const gone = ids[0] as string;
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: lab.endpoints.moto });
    await ec2.send(new StopInstancesCommand({ InstanceIds: [gone] }));
    const after = await waitFor(
      async () => {
        const found = (await targets(prometheus, 'orders')).map((t) => t.labels.ec2_instance as string);
        return !found.includes(gone) && found.length === lab.size ? found : undefined;
      },
      { what: `target ${gone} to go and a replacement to come`, intervalMs: 250 },
    );
    expect(after.filter((id) => !ids.includes(id))).toHaveLength(1);
  });
});
