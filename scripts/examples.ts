/**
 * `npm run examples`: the example service with its payments dependency behind a Toxiproxy proxy, and
 * every experiment in experiments/examples run against it with `gameday run --local`, as a user
 * would. Ends by checking that nothing is left on the Toxiproxy server.
 */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pc from 'picocolors';
import { startCheckoutDemo } from '../src/lab/checkout-demo';
import { isPortFree } from '../src/lab/ports';
import { startToxiproxy } from '../src/lab/toxiproxy-server';
import { getProxy } from '../src/providers/faults/toxiproxy';
import { PROJECT_ROOT } from '../src/tools';

const TOXIPROXY_PORT = Number(process.env.DEMO_TOXIPROXY_PORT ?? 18474);
const EXAMPLES = join(PROJECT_ROOT, 'experiments/examples');

// The example experiments name these addresses; say so plainly if something else holds them.
const DEMO_PORTS = [18080, 18090, 18091, TOXIPROXY_PORT];
for (const port of DEMO_PORTS) {
  if (!(await isPortFree(port))) {
    console.error(
      `port ${port} on 127.0.0.1 is in use; the demo needs ${DEMO_PORTS.join(', ')} ` +
        '(checkout, payments, the payments proxy, Toxiproxy). Stop what holds it and run the demo again.',
    );
    process.exit(69);
  }
}

const toxiproxy = await startToxiproxy(TOXIPROXY_PORT);
const demo = await startCheckoutDemo({
  checkoutPort: 18080,
  paymentsPort: 18090,
  paymentsUrl: 'http://127.0.0.1:18091',
});
console.log(`checkout at ${demo.checkoutUrl}, payments behind toxiproxy ${toxiproxy.url} (proxy payments)`);

let failed = false;
try {
  const files = (await readdir(EXAMPLES)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  for (const file of files) {
    console.log(pc.bold(`\n$ gameday run --local experiments/examples/${file}`));
    const code = await gameday(['run', '--local', join(EXAMPLES, file)], { TOXIPROXY_URL: toxiproxy.url });
    if (code !== 0) failed = true;
  }
  const proxy = await getProxy(toxiproxy.url, 'payments');
  const left = proxy?.toxics.map((t) => t.name) ?? [];
  if (!proxy) {
    failed = true;
    console.log(pc.yellow('toxiproxy has no payments proxy: no experiment got as far as creating it'));
  } else if (left.length > 0 || !proxy.enabled) {
    failed = true;
    console.log(
      pc.red(`LEFT BEHIND on toxiproxy: toxics [${left.join(', ')}], proxy enabled: ${proxy.enabled}`),
    );
  } else {
    console.log(pc.green('\ntoxiproxy is clean: no toxics left, proxy payments enabled'));
  }
} finally {
  await demo.stop();
  await toxiproxy.stop();
}
process.exitCode = failed ? 1 : 0;

function gameday(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/gameday.js'), ...args], {
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
