/**
 * What one heartbeat of a phase watch costs as the phase grows: the JSON of one probe's series
 * thinned to the share of the heartbeat's sample budget a two-probe watch gives it (as
 * activities/watch.ts does), its size and the time to serialize it. Four heartbeats a second per
 * run; the Temporal server stores each one.
 *
 *   npx tsx bench/heartbeat-size.ts
 */
import { newSeries, record } from '../activities/probes/series';
import { thin } from '../activities/watch';

const PROBES = 2;
const REPEAT = 200;
console.log('budget  samples so far   KB per heartbeat   ms to serialize   ms/s per run (4 beats)');
for (const budget of [8_000, 1_000]) {
  const cap = Math.max(200, Math.floor(budget / PROBES));
  for (const taken of [200, 2_000, 6_000]) {
    const series = newSeries({ everyMs: 100, heldCap: 50_000, bucketMs: 5_000, recentCap: 10 });
    const start = Date.now() - taken * 100;
    for (let i = 0; i < taken; i++)
      record(series, { at: start + i * 100, ok: true, latencyMs: 20 + Math.random(), status: 200 });
    const began = performance.now();
    let bytes = 0;
    for (let i = 0; i < REPEAT; i++)
      bytes = JSON.stringify({ ...series, held: thin(series.held, cap) }).length;
    const ms = (performance.now() - began) / REPEAT;
    console.log(
      `${String(budget).padStart(6)}  ${String(taken).padStart(14)}   ${(bytes / 1024).toFixed(0).padStart(16)}   ${ms.toFixed(2).padStart(15)}   ${(ms * 4).toFixed(1).padStart(10)}`,
    );
  }
}
