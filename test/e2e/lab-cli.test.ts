/** `gameday lab up|status|env|down` as a user runs them. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isAlive, readLab } from '../../src/lab/lab';
import { gameday, scratchDir } from '../helpers';

describe('gameday lab', () => {
  it('comes up with its endpoints, reports its fleet, and goes down leaving no process', async () => {
    const home = await scratchDir('lab-cli');
    onTestFinished(() => gameday(['lab', 'down', '--home', home]).done.then(() => undefined));

    const up = await gameday(['lab', 'up', '--build', 'hardened', '--size', '3', '--home', home]).done;
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('lab up: hardened build, 3 orders instances');
    expect(up.stdout).toMatch(/orders {5}http:\/\/127\.0\.0\.1:\d+/);
    expect(up.stdout).toMatch(/proxy dynamodb {9}127\.0\.0\.1:\d+/);

    const again = await gameday(['lab', 'up', '--home', home]).done;
    expect(again.code).toBe(69);
    expect(again.stderr).toContain('a lab is already up in');

    const status = await gameday(['lab', 'status', '--home', home]).done;
    expect(status.stdout.match(/ healthy {2}networked/g)).toHaveLength(3);

    const env = await gameday(['lab', 'env', '--home', home]).done;
    const lab = await readLab(home);
    expect(env.stdout).toContain(`export GAMEDAY_LAB_ORDERS=${lab?.endpoints.orders}`);
    expect(env.stdout).toContain(`export TEMPORAL_ADDRESS=${lab?.endpoints.temporal}`);

    const down = await gameday(['lab', 'down', '--home', home]).done;
    expect(down.stdout.trim()).toBe('lab down');
    expect(isAlive(lab?.pid ?? -1)).toBe(false);
    expect(Object.values(lab?.pids ?? {}).some(isAlive)).toBe(false);
    expect(await readLab(home)).toBeNull();
  });

  it('refuses an unknown build with exit 64', async () => {
    const { code, stderr } = await gameday([
      'lab',
      'up',
      '--build',
      'sturdy',
      '--home',
      await scratchDir('lab-bad'),
    ]).done;
    expect(code).toBe(64);
    expect(stderr).toContain('--build sturdy: fragile, hardened or multi-region');
  });

  it('refuses a replication lag that is no duration, or for a build with one region, with exit 64', async () => {
    const home = await scratchDir('lab-bad-lag');
    const bad = await gameday([
      'lab',
      'up',
      '--build',
      'multi-region',
      '--replication-lag',
      'soon',
      '--home',
      home,
    ]).done;
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--replication-lag: "soon" is not a duration');
    const oneRegion = await gameday([
      'lab',
      'up',
      '--build',
      'hardened',
      '--replication-lag',
      '1s',
      '--home',
      home,
    ]).done;
    expect(oneRegion.code).toBe(64);
    expect(oneRegion.stderr).toContain('--replication-lag: only the multi-region build has a second region');
    expect(existsSync(join(home, 'lab.pid'))).toBe(false);
  });
});
