/**
 * Prints the replay's fidelity table (src/report/fidelity.ts) from journals:
 *
 *   npx tsx scripts/fidelity-table.ts fragile=A/journal.json hardened=B/journal.json
 *
 * The README's table is this, for the journals under test/fixtures/journals/oct20-fidelity-*.json
 * (copied from an `npm run demo` run); test/unit/fidelity.test.ts checks that they agree.
 */
import { readFile } from 'node:fs/promises';
import { renderFidelityMarkdown } from '../src/report/fidelity';
import { Journal } from '../src/report/journal';

const runs = [];
for (const arg of process.argv.slice(2)) {
  const [label, path] = arg.includes('=') ? arg.split(/=(.*)/s) : [arg, arg];
  try {
    runs.push({ label: label ?? '', journal: Journal.parse(JSON.parse(await readFile(path ?? '', 'utf8'))) });
  } catch (error) {
    console.error(`fidelity-table: ${path}: ${(error as Error).message.split('\n')[0]}`);
    process.exit(64);
  }
}
if (runs.length === 0) {
  console.error('usage: fidelity-table LABEL=JOURNAL.json [LABEL=JOURNAL.json ...]');
  process.exit(64);
}
process.stdout.write(renderFidelityMarkdown(runs));
