/**
 * Inject and revert any fault by its handle. A new provider adds one file here and one case in
 * each switch; the workflow does not change.
 */
import type { FaultHandle } from '../../src/report/journal';
import { injectToxiproxy, revertToxiproxy } from './toxiproxy';

export async function injectFault(handle: FaultHandle): Promise<{ injectedAt: number }> {
  switch (handle.provider) {
    case 'toxiproxy':
      await injectToxiproxy(handle.toxiproxy);
      break;
  }
  return { injectedAt: Date.now() };
}

export async function revertFault(
  handle: FaultHandle,
): Promise<{ revertedAt: number; alreadyGone: boolean }> {
  let alreadyGone: boolean;
  switch (handle.provider) {
    case 'toxiproxy':
      ({ alreadyGone } = await revertToxiproxy(handle.toxiproxy));
      break;
  }
  return { revertedAt: Date.now(), alreadyGone };
}
