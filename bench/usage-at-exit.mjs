// Preloaded (`node --import`) into each gameday process bench/cli-startup.ts measures: writes the
// process's own peak RSS and CPU time to $GAMEDAY_BENCH_USAGE when it exits, however it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.GAMEDAY_BENCH_USAGE;
if (file) {
  process.on('exit', () => {
    const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ maxRssKiB: maxRSS, cpuUs: userCPUTime + systemCPUTime }));
  });
}
