#!/usr/bin/env node
// The `gameday` command: on a supported Node, the CLI compiled from the TypeScript sources,
// rebuilt first whenever a source changed (bin/cli-build.js).
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { BuildFailed, compiledCli } from './cli-build.js';
import { unsupportedNodeMessage } from './node-version.js';

const unsupported = unsupportedNodeMessage();
if (unsupported) {
  console.error(unsupported);
  process.exit(69);
}
// V8 keeps the compiled code of every module it loads; later starts skip compiling it again.
module.enableCompileCache?.();
let entry;
try {
  entry = await compiledCli();
} catch (error) {
  if (!(error instanceof BuildFailed)) throw error;
  console.error(`gameday: ${error.message}`);
  process.exit(70);
}
await import(pathToFileURL(entry).href);
