// Preloaded (`NODE_OPTIONS=--import`) into each `gameday worker` bench/scale.ts starts: every
// second, writes that second's event-loop delay (p99 and max, ms) to $GAMEDAY_BENCH_LOOP, so the
// benchmark can tell a worker whose loop is blocked from one that is only short of CPU.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.GAMEDAY_BENCH_LOOP;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  setInterval(() => {
    const figures = { at: Date.now(), p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 };
    delay.reset();
    writeFileSync(file, JSON.stringify(figures));
  }, 1_000).unref();
}
