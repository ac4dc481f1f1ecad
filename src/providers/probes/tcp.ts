/** THROWAWAY (proof of the seam): a `tcp` probe that times a connect. */
import { connect } from 'node:net';
import { z } from 'zod';
import { parseDuration } from '../../experiment/duration';
import { Duration } from '../../experiment/primitives';
import type { ProbeKind, Sample } from '../probe-kind';

const Spec = z.strictObject({ host: z.string(), port: z.number().int(), timeout: Duration.default('1s') });
interface Plan {
  host: string;
  port: number;
  timeoutMs: number;
}

export const tcp = {
  spec: Spec,
  measures: 'latency',
  plan: (spec): Plan => ({ host: spec.host, port: spec.port, timeoutMs: parseDuration(spec.timeout) }),
  sample: (plan) =>
    new Promise<Sample>((resolve) => {
      const at = Date.now();
      const socket = connect({ host: plan.host, port: plan.port, timeout: plan.timeoutMs });
      const done = (error?: string) => {
        socket.destroy();
        resolve({ at, ok: !error, latencyMs: Date.now() - at, ...(error ? { error } : {}) });
      };
      socket.once('connect', () => done());
      socket.once('timeout', () => done('timeout'));
      socket.once('error', (e) => done(e.message));
    }),
  timeoutMs: (plan) => plan.timeoutMs,
  describe: (plan) => `tcp ${plan.host}:${plan.port}`,
} satisfies ProbeKind<typeof Spec, Plan>;
