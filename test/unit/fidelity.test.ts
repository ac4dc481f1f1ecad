/**
 * The fidelity table is what the journals measured, beside October 20's history, and the README
 * carries it as the generator renders it for the recorded journals of a real replay.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fidelityRows, renderFidelityMarkdown } from '../../src/report/fidelity';
import { Journal } from '../../src/report/journal';
import { PROJECT_ROOT } from '../../src/tools';

const recorded = (build: string) =>
  Journal.parse(
    JSON.parse(
      readFileSync(join(PROJECT_ROOT, `test/fixtures/journals/oct20-fidelity-${build}.json`), 'utf8'),
    ),
  );
const RUNS = [
  { label: 'fragile', journal: recorded('fragile') },
  { label: 'hardened', journal: recorded('hardened') },
];

/** A Markdown table's cells, row by row, without its separator row: `\\|` stays inside its cell. */
const tableCells = (markdown: string) =>
  markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    );

describe('the fidelity table', () => {
  it('has a row per judged fault window of the replay, in the order the faults went in', () => {
    expect(fidelityRows(RUNS).map((row) => [row.phase, row.fault])).toEqual([
      ['P1 DNS void', 'dynamodb-name-void'],
      ['P2 lease collapse', 'ec2-launches-fail'],
      ['P3 network backlog', 'network-propagation-stalls'],
      ['P5 throttled recovery (100%)', 'ec2-api-throttled-100'],
      ['P4 NLB flapping', 'health-checks-flap'],
      ['P5 throttled recovery (50%)', 'ec2-api-throttled-50'],
      ['P5 throttled recovery (10%)', 'ec2-api-throttled-10'],
    ]);
  });

  it("shows each build's error classes as its journal measured them", () => {
    const [dnsVoid] = fidelityRows(RUNS);
    expect(dnsVoid?.lab[0]).toMatch(
      /^ENODATA\/ENOTFOUND \(up to [\d.]+\/s\); orders API [\d.]+% ok \(status 503 ×\d+/,
    );
    expect(dnsVoid?.lab[1]).toMatch(/^no ENODATA\/ENOTFOUND; orders API 100\.0% ok$/);
    const throttled = fidelityRows(RUNS).find((row) => row.fault === 'ec2-api-throttled-100');
    expect(throttled?.lab.every((cell) => /^RequestLimitExceeded \(up to [\d.]+\/s\)$/.test(cell))).toBe(
      true,
    );
  });

  it('changes when the journal does: nothing in the lab columns is typed in', () => {
    const quiet = structuredClone(RUNS[0]?.journal) as Journal;
    for (const phase of quiet.phases)
      for (const check of phase.watch?.expectations ?? [])
        for (const bucket of check.summary.buckets) bucket.valueMax = 0;
    const [dnsVoid] = fidelityRows([{ label: 'fragile', journal: quiet }]);
    expect(dnsVoid?.lab[0]).toMatch(/^no ENODATA\/ENOTFOUND;/);
  });

  it('keeps an error message with Markdown in it inside its cell', () => {
    const hostile = structuredClone(RUNS[0]?.journal) as Journal;
    const read = hostile.phases[0]?.watch?.expectations.find(
      (e) => e.probe === 'orders-read' && e.during === 'dynamodb-name-void',
    );
    if (!read) throw new Error('the fixture has no orders-read check during the DNS void');
    read.summary.topErrors = [{ message: 'a | b <script>', count: 100_000 }];
    const line = renderFidelityMarkdown([{ label: 'fragile', journal: hostile }]).split('\n')[2] ?? '';
    expect(line).toContain('a \\| b &lt;script&gt; ×100000');
    expect(line.replaceAll('\\|', '').split('|')).toHaveLength(7);
  });

  it("is in the README as the generator renders it for the recorded replay's journals", () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const section = /<!-- fidelity-table:begin -->\n([\s\S]*?)<!-- fidelity-table:end -->/.exec(readme);
    // Biome aligns the README's tables: the same rows and cells, whatever the padding.
    expect(tableCells(section?.[1] ?? '')).toEqual(tableCells(renderFidelityMarkdown(RUNS)));
    expect(tableCells(renderFidelityMarkdown(RUNS))).toHaveLength(1 + fidelityRows(RUNS).length);
  });
});
