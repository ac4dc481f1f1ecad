/**
 * A line chart as inline SVG: shaded bands (phases, fault windows, stretches with no samples),
 * vertical markers (breaches, aborts), horizontal reference lines (a fleet's min and max) and one
 * line per series, broken where a point is null. No script and no external font, so the report
 * stays one self-contained file that prints as it shows.
 */
import { type Html, html } from './html-text';

export interface Band {
  kind: 'phase' | 'fault' | 'gap';
  label: string;
  from: number;
  to: number;
  detail: string;
}

export interface Series {
  name: string;
  /** A CSS class that colours the line (`s0`..`s7`). */
  className: string;
  /** null leaves a gap: no samples there. */
  points: { x: number; y: number | null }[];
}

export interface ChartSpec {
  title: string;
  x: { from: number; to: number; tick: (x: number) => string; ticks?: number[] };
  y: { max: number; tick: (y: number) => string };
  bands?: Band[];
  markers?: { kind: 'breach' | 'abort'; at: number; label: string }[];
  /** Horizontal lines at a value that matters, such as the fewest instances that still hold. */
  references?: { y: number; label: string }[];
  series: Series[];
}

const WIDTH = 960;
const HEIGHT = 230;
const MARGIN = { left: 58, right: 14, top: 26, bottom: 40 };
const FAULT_STRIP = 12;

export function lineChart(spec: ChartSpec): Html {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const span = Math.max(spec.x.to - spec.x.from, 1);
  const yMax = spec.y.max > 0 ? spec.y.max : 1;
  const xAt = (x: number) =>
    MARGIN.left + (Math.min(Math.max(x, spec.x.from), spec.x.to) - spec.x.from) * (plotWidth / span);
  const yAt = (y: number) => MARGIN.top + plotHeight - (Math.min(y, yMax) / yMax) * plotHeight;
  const num = (n: number) => n.toFixed(1);

  const phases = (spec.bands ?? []).filter((band) => band.kind === 'phase');
  const faults = (spec.bands ?? []).filter((band) => band.kind === 'fault');
  const gaps = (spec.bands ?? []).filter((band) => band.kind === 'gap');
  const bottom = MARGIN.top + plotHeight;

  const phaseBands = phases.map((band, i) => {
    const x = xAt(band.from);
    const width = Math.max(xAt(band.to) - x, 1);
    return html`<g class="phase-band" data-phase="${band.label}"><title>${band.detail}</title>
<rect class="band band${i % 2}" x="${num(x)}" y="${MARGIN.top}" width="${num(width)}" height="${plotHeight}"/>
<text class="band-label" x="${num(x + 3)}" y="${MARGIN.top - 6}">${clip(band.label, width)}</text></g>`;
  });
  // Fault windows sit in a strip along the bottom of the plot, one row per overlapping fault.
  const rows: number[] = [];
  const faultBands = faults.map((band) => {
    let row = rows.findIndex((end) => end <= band.from);
    if (row === -1) row = rows.push(0) - 1;
    rows[row] = band.to;
    const x = xAt(band.from);
    const width = Math.max(xAt(band.to) - x, 1);
    const y = bottom - FAULT_STRIP * (row + 1);
    return html`<g class="fault-window" data-fault="${band.label}"><title>${band.detail}</title>
<rect x="${num(x)}" y="${num(y)}" width="${num(width)}" height="${FAULT_STRIP - 1}"/>
<text x="${num(x + 2)}" y="${num(y + FAULT_STRIP - 3)}">${clip(band.label, width)}</text></g>`;
  });

  const gapBands = gaps.map((band) => {
    const x = xAt(band.from);
    const width = Math.max(xAt(band.to) - x, 1);
    return html`<g class="gap-band"><title>${band.detail}</title>
<rect x="${num(x)}" y="${MARGIN.top}" width="${num(width)}" height="${plotHeight}"/>
<text x="${num(x + width / 2)}" y="${num(MARGIN.top + plotHeight / 2)}" text-anchor="middle">${clip(band.label, width)}</text></g>`;
  });
  const references = (spec.references ?? []).map(
    (reference) => html`<g class="reference"><title>${reference.label}</title>
<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${num(yAt(reference.y))}" y2="${num(yAt(reference.y))}"/>
<text x="${WIDTH - MARGIN.right - 3}" y="${num(yAt(reference.y) - 3)}" text-anchor="end">${reference.label}</text></g>`,
  );

  const yTicks = [0, yMax / 2, yMax].map(
    (
      y,
    ) => html`<g class="tick"><line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${num(yAt(y))}" y2="${num(yAt(y))}"/>
<text x="${MARGIN.left - 6}" y="${num(yAt(y) + 4)}" text-anchor="end">${spec.y.tick(y)}</text></g>`,
  );
  const xTickValues = spec.x.ticks ?? Array.from({ length: 7 }, (_, i) => spec.x.from + (span * i) / 6);
  const anchor = (i: number) => (i === 0 ? 'start' : i === xTickValues.length - 1 ? 'end' : 'middle');
  const xTicks = xTickValues.map(
    (x, i) =>
      html`<text class="x-tick" x="${num(xAt(x))}" y="${bottom + 16}" text-anchor="${anchor(i)}">${spec.x.tick(x)}</text>`,
  );

  const lines = spec.series.map((series) => {
    const segments: string[] = [];
    let pen = 'M';
    for (const point of series.points) {
      if (point.y === null) {
        pen = 'M';
        continue;
      }
      segments.push(`${pen}${num(xAt(point.x))},${num(yAt(point.y))}`);
      pen = 'L';
    }
    // A point with no neighbour on either side draws no line: it gets a dot, or it would vanish.
    const alone = (i: number) =>
      (series.points[i - 1]?.y ?? null) === null && (series.points[i + 1]?.y ?? null) === null;
    const everyDot = series.points.length <= 40 || series.className.includes('dots-only');
    const dots = series.points.map((p, i) =>
      p.y === null || !(everyDot || alone(i))
        ? ''
        : html`<circle cx="${num(xAt(p.x))}" cy="${num(yAt(p.y))}" r="2.5"/>`,
    );
    return html`<g class="series ${series.className}" data-series="${series.name}"><path d="${segments.join(' ')}"/>${dots}</g>`;
  });

  const markers = (spec.markers ?? []).map(
    (marker) => html`<g class="marker ${marker.kind}-marker"><title>${marker.label}</title>
<line x1="${num(xAt(marker.at))}" x2="${num(xAt(marker.at))}" y1="${MARGIN.top}" y2="${bottom}"/>
<text x="${num(xAt(marker.at) + 3)}" y="${MARGIN.top + 12}">${marker.kind === 'breach' ? '⚠ breach' : '■ abort'}</text></g>`,
  );

  let legendX = MARGIN.left;
  const legend = spec.series.map((series) => {
    const x = legendX;
    legendX += 30 + series.name.length * 6.5;
    return html`<g class="legend ${series.className}"><rect x="${num(x)}" y="${HEIGHT - 14}" width="12" height="4"/>
<text x="${num(x + 16)}" y="${HEIGHT - 9}">${series.name}</text></g>`;
  });

  return html`<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${spec.title}" xmlns="http://www.w3.org/2000/svg">
<title>${spec.title}</title>
${phaseBands}${gapBands}${yTicks}${references}${faultBands}${lines}${markers}${xTicks}${legend}
</svg>`;
}

/** A label that fits its band: about 6.5px per character at the chart's font size. */
function clip(label: string, width: number): string {
  const fits = Math.floor((width - 4) / 6.5);
  if (fits >= label.length) return label;
  return fits <= 1 ? '' : `${label.slice(0, fits - 1)}…`;
}

/** The charts' CSS, for the pages that embed them. */
export const CHART_STYLE = `
figure { margin: 14px 0 22px; break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { width: 100%; height: auto; display: block; font: 11px system-ui, sans-serif; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
svg.chart .band0 { fill: #eef3fb; }
svg.chart .band1 { fill: #f7f9fc; }
svg.chart .band-label { fill: #3b4a5c; font-weight: 600; }
svg.chart .tick line { stroke: #e6e9ed; }
svg.chart .tick text, svg.chart .x-tick { fill: #5f6b7a; }
svg.chart .fault-window rect { fill: #f4c7c3; stroke: #c62828; stroke-width: .5; }
svg.chart .fault-window text { fill: #7a1a1a; font-size: 9px; }
svg.chart .gap-band rect { fill: #5f6b7a; fill-opacity: .16; stroke: #5f6b7a; stroke-width: .6; stroke-dasharray: 3 2; }
svg.chart .gap-band text { fill: #3b4a5c; font-style: italic; }
svg.chart .reference line { stroke: #1a7f37; stroke-width: 1.2; stroke-dasharray: 6 3; }
svg.chart .reference text { fill: #1a7f37; font-weight: 600; }
svg.chart .series path { fill: none; stroke-width: 1.8; }
svg.chart .dots-only path { display: none; }
svg.chart .marker line { stroke-width: 1.5; stroke-dasharray: 4 3; }
svg.chart .breach-marker line { stroke: #c62828; } svg.chart .breach-marker text { fill: #c62828; }
svg.chart .abort-marker line { stroke: #6b21a8; } svg.chart .abort-marker text { fill: #6b21a8; }
svg.chart .legend text { fill: #1f2328; }
${['#2563eb', '#d97706', '#c62828', '#0f766e', '#7c3aed', '#be185d', '#4d7c0f', '#334155']
  .map(
    (colour, i) =>
      `.s${i} path { stroke: ${colour}; } .s${i} circle, .legend.s${i} rect { fill: ${colour}; }`,
  )
  .join('\n')}
`;
