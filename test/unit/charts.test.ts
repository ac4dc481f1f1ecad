/**
 * The timeline charts draw only what was measured: a line breaks where a probe took no sample,
 * a recorded gap is shaded, and each probe kind is charted by what it measures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html';
import { Journal } from '../../src/report/journal';
import { renderMarkdown } from '../../src/report/markdown';
import { timelineOf } from '../../src/report/timeline';
import { PROJECT_ROOT } from '../../src/tools';

const load = (name: string) =>
  Journal.parse(JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/fixtures/journals', name), 'utf8')));
const fragile = load('replay-fragile.json');
/** A real run whose Temporal server was killed mid-phase and restarted on its database (test/e2e/temporal-restart). */
const restarted = load('temporal-restart.json');

/** The `d` of each series path in the chart of `probe` whose title starts with `title`. */
function paths(page: string, probe: string, title: string): string[] {
  const figure = page.split(`data-probe="${probe}"`)[1]?.split('</figure>')[0] ?? '';
  const chart = figure.split('<svg').find((svg) => svg.includes(`aria-label="${probe}: ${title}`)) ?? '';
  return [...chart.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1] as string);
}

describe('charts of a probe sampled only now and then', () => {
  it('break the line across the 80s in which the fleet probe was not sampled', () => {
    const fleet = timelineOf(fragile).probes.find((p) => p.probe === 'fleet');
    // Steady state before, then throttled-100, then steady state after: two breaks.
    expect(fleet?.buckets.filter((b) => b.afterGap)).toHaveLength(2);
    const [line] = paths(renderHtml(fragile), 'fleet', 'share of samples below min 4');
    const segments = line?.trim().split(/ (?=M)/) ?? [];
    expect(segments).toHaveLength(3);
    // No segment spans the phases between: each stays within a second or the phase it measured.
    const xs = segments.map((segment) => [...segment.matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1])));
    expect(xs.map((x) => Math.max(...x) - Math.min(...x)).every((width) => width < 120)).toBe(true);
  });

  it('draws a request probe without breaks where it was sampled throughout', () => {
    const read = timelineOf(fragile).probes.find((p) => p.probe === 'orders-read');
    expect(read?.kind).toBe('http');
    expect(read?.buckets.filter((b) => b.afterGap).length).toBeLessThanOrEqual(fragile.phases.length + 1);
  });
});

describe('an ec2Fleet probe', () => {
  it('is charted as the instances it counted against its min, not as latency', () => {
    const journal = structuredClone(fragile);
    const watch = journal.phases[4]?.watch;
    const fleet = watch?.expectations.find((e) => e.probe === 'fleet');
    if (!fleet) throw new Error('fixture has no fleet expectation in throttled-100');
    Object.assign(fleet.summary, { kind: 'ec2Fleet', range: { min: 4 } });
    fleet.summary.buckets = fleet.summary.buckets.map((bucket, i) => ({
      ...bucket,
      valueMin: i < 4 ? 3 : 4,
      valueMax: 4,
    }));
    const page = renderHtml(journal);
    const figure = page.split('data-probe="fleet"')[1]?.split('</figure>')[0] ?? '';
    expect(figure).toContain('aria-label="fleet: instances counted, against min 4"');
    expect(figure).not.toContain('aria-label="fleet: latency');
    expect(figure).not.toContain('data-series="p99 latency"');
    expect(figure).toMatch(/<g class="reference"><title>min 4<\/title>/);
    expect(figure).toContain('data-series="fewest counted"');
    expect(paths(page, 'fleet', 'instances counted')[0]).toMatch(/^M/);
  });
});

describe('a prometheus probe', () => {
  it('is charted as the values its query returned against its max, not as instances or latency', () => {
    const journal = structuredClone(fragile);
    const fleet = journal.phases[4]?.watch?.expectations.find((e) => e.probe === 'fleet');
    if (!fleet) throw new Error('fixture has no fleet expectation in throttled-100');
    Object.assign(fleet.summary, { kind: 'prometheus', range: { max: 0.01 } });
    fleet.summary.buckets = fleet.summary.buckets.map((bucket, i) => ({
      ...bucket,
      valueMin: i < 4 ? 0.2 : 0,
      valueMax: i < 4 ? 0.4 : 0.005,
    }));
    const page = renderHtml(journal);
    const figure = page.split('data-probe="fleet"')[1]?.split('</figure>')[0] ?? '';
    expect(figure).toContain('aria-label="fleet: value, against max 0.01"');
    expect(figure).not.toContain('instances counted');
    expect(figure).not.toContain('aria-label="fleet: latency');
    expect(figure).toMatch(/<g class="reference"><title>max 0.01<\/title>/);
    expect(figure).toContain('data-series="highest"');
    // A ratio's axis is its own scale (0.5 for values up to 0.4), not a count's whole numbers.
    expect(figure).toContain('>0.5<');
  });
});

describe('a recorded gap', () => {
  it('is shaded on every chart of its probe, breaks its lines, and is listed in the reports', () => {
    const journal = structuredClone(fragile);
    const phase = journal.phases[0];
    const guardrail = phase?.watch?.guardrails[0];
    if (!phase || !guardrail) throw new Error('fixture has no guardrail');
    const from = phase.startedAt + 8_000;
    const to = from + 11_500;
    guardrail.buckets = guardrail.buckets.filter((b) => b.at + 1_000 <= from || b.at >= to);
    guardrail.gaps = [{ from, to, missed: 57 }];
    const page = renderHtml(journal);
    const figure = page.split('data-probe="load-balancer-alive"')[1]?.split('</figure>')[0] ?? '';
    expect(figure.match(/class="gap-band"/g)).toHaveLength(2);
    expect(figure).toContain('no samples for 11.5s (+9.5s to +21s), 57 planned sample(s) missed');
    for (const line of paths(page, 'load-balancer-alive', 'latency')) expect(line).toMatch(/\d M/);
    const listed =
      'load-balancer-alive in dns-void: no samples for 11.5s from +9.5s (57 planned samples missed)';
    expect(page).toContain(listed);
    expect(renderMarkdown(journal)).toContain('## Gaps in the record');
    expect(renderMarkdown(fragile)).not.toContain('## Gaps in the record');
  });
});

describe('the journal of a run whose Temporal server was down mid-phase', () => {
  it('draws no point and no line inside the gap, and says how much each check saw', () => {
    const guardrail = restarted.phases[0]?.watch?.guardrails[0];
    const gap = guardrail?.gaps?.[0];
    if (!gap) throw new Error('fixture has no gap');
    const timeline = timelineOf(restarted).probes.find((p) => p.probe === 'svc-up');
    expect(timeline?.gaps).toHaveLength(1);
    const drawn = timeline?.buckets.map((b) => b.x) ?? [];
    expect(drawn.filter((x) => x > gap.from && x < gap.to)).toEqual([]);
    expect(timeline?.buckets.filter((b) => b.afterGap)).toHaveLength(1);

    const page = renderHtml(restarted);
    expect(page).toContain('<td class="failed">TOO FEW SAMPLES</td><td>132 of ~191 samples (69%)');
    for (const line of paths(page, 'svc-up', 'latency')) expect(line.split(' M')).toHaveLength(2);
  });
});
