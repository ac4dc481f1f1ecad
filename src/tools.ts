/** Paths of the tool binaries scripts/bootstrap installs under .tools/bin. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export function toolBinary(name: 'temporal' | 'toxiproxy-server' | 'moto_server'): string {
  const path = fileURLToPath(new URL(`../.tools/bin/${name}`, import.meta.url));
  if (!existsSync(path)) {
    throw new Error(
      `${name} is not installed under .tools/bin: run scripts/bootstrap (it says what to install if it cannot)`,
    );
  }
  return path;
}
