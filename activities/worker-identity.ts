import { hostname } from 'node:os';

/** Which worker process did something, for the journal: host and pid. */
export function workerIdentity(): string {
  return `${hostname()}:${process.pid}`;
}
