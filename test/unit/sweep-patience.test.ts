/**
 * The sweep asks a source that did not answer again before calling it unreadable: it runs when
 * things are broken, on machines that are slow. A refusal is an answer and is not asked twice.
 */
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { refused, unavailable } from '../../src/providers/fault-provider';
import type { SweepSource } from '../../src/sweep/marks';
import { sweep } from '../../src/sweep/sweep';

/** A source that fails its first `failures` looks with `error`, then finds nothing. */
function source(failures: number, error: () => Error) {
  let looks = 0;
  const made: SweepSource & { looks: () => number } = {
    name: 'a source',
    async find() {
      looks++;
      if (looks <= failures) throw error();
      return [];
    },
    looks: () => looks,
  };
  return made;
}

// Nothing is found, so no run's liveness is asked: the client is never used.
const noClient = {} as Client;

describe('the sweep looking at a source', () => {
  it('asks again when the source did not answer, and reads it when it then does', async () => {
    const slow = source(2, () => unavailable('toxiproxy at http://127.0.0.1:1 is unreachable (timeout)'));
    const result = await sweep(noClient, [slow], { apply: false, retryDelayMs: 1 });
    expect(result.unreadable).toEqual([]);
    expect(slow.looks()).toBe(3);
  });

  it('calls it unreadable after three looks, saying so', async () => {
    const gone = source(9, () => unavailable('toxiproxy at http://127.0.0.1:1 is unreachable (timeout)'));
    const result = await sweep(noClient, [gone], { apply: false, retryDelayMs: 1 });
    expect(result.unreadable).toEqual([
      { source: 'a source', error: 'toxiproxy at http://127.0.0.1:1 is unreachable (timeout) (3 attempts)' },
    ]);
    expect(gone.looks()).toBe(3);
  });

  it('does not ask again after a refusal', async () => {
    const refusing = source(9, () => refused('listing proxies: toxiproxy answered 403 forbidden'));
    const result = await sweep(noClient, [refusing], { apply: false, retryDelayMs: 1 });
    expect(result.unreadable).toHaveLength(1);
    expect(refusing.looks()).toBe(1);
  });
});
