/** Paths of the tool binaries scripts/bootstrap installs under .tools/bin. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The nearest directory above this module with a package.json: the same from src/tools.ts run
 * through tsx and from the compiled CLI under dist/<build>/.
 */
export const PROJECT_ROOT = projectRoot(dirname(fileURLToPath(import.meta.url)));

function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export function toolBinary(name: 'temporal' | 'toxiproxy-server' | 'moto_server' | 'prometheus'): string {
  const path = join(PROJECT_ROOT, '.tools/bin', name);
  if (!existsSync(path)) {
    throw new Error(
      `${name} is not installed under .tools/bin: run scripts/bootstrap (it says what to install if it cannot)`,
    );
  }
  return path;
}
