/**
 * Which Node versions gameday supports: package.json's `engines.node`, a `||` list of `^X.Y.Z`
 * ranges (one per LTS line). Plain JavaScript with no package, because scripts/bootstrap asks it
 * with whatever Node the machine has, before node_modules exists:
 *
 *   node bin/node-version.js     # exit 0 if this Node is supported, 1 if not
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SUPPORTED = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines
  .node;

export function isSupported(version, range = SUPPORTED) {
  const [major, minor, patch] = version.replace(/^v/, '').split('.').map(Number);
  return range.split('||').some((part) => {
    const caret = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(part);
    if (!caret) throw new Error(`engines.node: expected ^X.Y.Z ranges joined by ||, not "${part.trim()}"`);
    const [lineMajor, lineMinor, linePatch] = caret.slice(1).map(Number);
    return major === lineMajor && (minor > lineMinor || (minor === lineMinor && patch >= linePatch));
  });
}

/** Null when this Node is supported, else what to tell the user. */
export function unsupportedNodeMessage(version = process.version) {
  if (isSupported(version)) return null;
  return (
    `gameday: Node ${version} is not supported (package.json engines: ${SUPPORTED}). ` +
    'In the project, scripts/bootstrap provides a supported one for npm scripts and `npx gameday`; ' +
    'elsewhere install Node 22, 24 or 26.'
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exit(isSupported(process.version) ? 0 : 1);
}
