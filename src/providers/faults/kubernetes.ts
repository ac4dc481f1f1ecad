/** THROWAWAY (proof of the seam): a `kubernetes` fault that records a scaled-down deployment in a file. */
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { Name } from '../../experiment/primitives';
import { type FaultProvider, refused } from '../fault-provider';

const Spec = z.strictObject({ file: z.string().min(1), deployment: Name, replicas: z.number().int().min(0) });
const Handle = z.object({
  file: z.string(),
  deployment: z.string(),
  replicas: z.number(),
  marker: z.string(),
});
type Handle = z.infer<typeof Handle>;

async function read(file: string): Promise<Record<string, string> | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return null;
  }
}

export const kubernetes = {
  spec: Spec,
  handle: Handle,
  plan: (spec, ctx) => ({ ...spec, marker: `gameday.${ctx.runId}.${ctx.fault}` }),
  async resolve(handle: Handle) {
    const cluster = await read(handle.file);
    if (!cluster || !(handle.deployment in cluster))
      throw refused(`no deployment ${handle.deployment} in ${handle.file}`);
    return { handle, lockKeys: [`kubernetes/${handle.file}/${handle.deployment}`] };
  },
  async inject(handle, ctx) {
    const cluster = (await read(handle.file)) ?? {};
    if (cluster[handle.deployment] === handle.marker) return handle;
    if (!(handle.deployment in cluster)) throw refused(`no deployment ${handle.deployment}`);
    ctx.beforeChange();
    await writeFile(handle.file, JSON.stringify({ ...cluster, [handle.deployment]: handle.marker }));
    return handle;
  },
  async revert(handle) {
    const cluster = (await read(handle.file)) ?? {};
    if (cluster[handle.deployment] !== handle.marker) return { alreadyGone: true };
    await writeFile(handle.file, JSON.stringify({ ...cluster, [handle.deployment]: 'up' }));
    return { alreadyGone: false };
  },
  describe: (h) => `kubernetes ${h.file} deployment ${h.deployment} scaled to ${h.replicas}`,
} satisfies FaultProvider<typeof Spec, typeof Handle>;
