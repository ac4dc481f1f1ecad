#!/usr/bin/env node
// The `gameday` command. The project is TypeScript run directly through tsx, so there is no build
// step between an edit and a run.
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every Node 20 start that its 2027 releases will need Node 22; that is for
// whoever maintains gameday (see the README), not for the SRE running a game day.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('../src/cli/main.ts');
