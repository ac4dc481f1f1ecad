#!/usr/bin/env node
// The `gameday` command: the CLI compiled from the TypeScript sources,
// rebuilt first whenever a source changed (bin/cli-build.js).
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { BuildFailed, compiledCli } from './cli-build.js';

// The AWS SDK warns on every Node 20 start that its 2027 releases will need Node 22; that is for
// whoever maintains gameday (see the README), not for the SRE running a game day.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// V8 keeps the compiled code of every module it loads; later starts skip compiling it again.
module.enableCompileCache?.();
let entry;
try {
  entry = await compiledCli();
} catch (error) {
  if (!(error instanceof BuildFailed)) throw error;
  console.error(`gameday: the sources do not compile:\n${error.message}`);
  process.exit(70);
}
await import(pathToFileURL(entry).href);
