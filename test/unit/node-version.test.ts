/**
 * gameday runs on the Node lines package.json's engines names; the suite itself, and the CLI it
 * spawns (process.execPath), must be on one of them: on a machine with an older Node,
 * scripts/bootstrap puts a supported one first on npm's PATH.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSupported, SUPPORTED, unsupportedNodeMessage } from '../../bin/node-version.js';
import { PROJECT_ROOT } from '../../src/tools';

describe('supported Node versions', () => {
  it('are the LTS lines 22 (from 22.12, as vite needs), 24 and 26', () => {
    expect(SUPPORTED).toBe(JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).engines.node);
    for (const version of ['22.12.0', 'v22.23.5', '24.0.0', '24.22.3', '26.12.1']) {
      expect(isSupported(version), version).toBe(true);
    }
    for (const version of ['v20.20.2', '22.11.9', '23.11.0', '25.2.1', '27.0.0', '18.20.8']) {
      expect(isSupported(version), version).toBe(false);
    }
  });

  it('refuse an unknown kind of range rather than guess', () => {
    expect(() => isSupported('22.12.0', '>=22')).toThrow('engines.node: expected ^X.Y.Z ranges joined by ||');
  });

  it('say, for an older Node, what to do', () => {
    expect(unsupportedNodeMessage('v20.20.2')).toBe(
      `gameday: Node v20.20.2 is not supported (package.json engines: ${SUPPORTED}). In the project, ` +
        'scripts/bootstrap provides a supported one for npm scripts and `npx gameday`; elsewhere install Node 22, 24 or 26.',
    );
    expect(unsupportedNodeMessage('v24.22.3')).toBeNull();
  });

  it('include the Node this suite and the processes it spawns run on', () => {
    expect(isSupported(process.version), process.execPath).toBe(true);
    const child = execFileSync(process.execPath, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
    expect(child).toBe(process.version);
  });
});
