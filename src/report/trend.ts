/**
 * The trend page: many journals of one experiment (one per night, say) on one self-contained HTML
 * page, so a team sees whether its resilience is getting better: verdict, recovery time and each
 * phase's availability, run after run.
 */
import { formatDuration } from '../experiment/duration';
import { html, selfContainedPage } from './html-text';
import type { Journal } from './journal';
import { percent, phaseAvailability, recoveryText } from './results';
import { CHART_STYLE, lineChart } from './svg-chart';

export function renderTrend(journals: Journal[]): string {
  const runs = [...journals].sort((a, b) => a.startedAt - b.startedAt);
  const name = runs[0]?.experiment.name ?? '(no runs)';
  const day = (at: number) => new Date(at).toISOString().slice(0, 16).replace('T', ' ');
  const everyTick = Math.max(1, Math.ceil(runs.length / 10));
  const x = {
    from: 0,
    to: Math.max(runs.length - 1, 1),
    tick: (i: number) => (runs[Math.round(i)] ? day(runs[Math.round(i)]?.startedAt ?? 0).slice(5) : ''),
    ticks: runs.map((_, i) => i).filter((i) => i % everyTick === 0),
  };

  const recoveries = runs.map((run) => run.recovery.recoveredAfterMs);
  // A night that never recovered is the worst night: drawn at its limit, not left out.
  const notRecovered = runs.map((run) =>
    run.recovery.recoveredAfterMs === null && run.steadyStateAfter ? run.recovery.withinMs : null,
  );
  const recoveryChart = lineChart({
    title: 'time to recover after rollback',
    x,
    y: {
      max: niceMax(Math.max(1, ...recoveries.map((ms) => ms ?? 0), ...notRecovered.map((ms) => ms ?? 0))),
      tick: (ms) => formatDuration(Math.round(ms)),
    },
    series: [
      { name: 'recovered after', className: 's3', points: recoveries.map((ms, i) => ({ x: i, y: ms })) },
      {
        name: 'did not recover (at its limit)',
        className: 's2 dots-only',
        points: notRecovered.map((ms, i) => ({ x: i, y: ms })),
      },
    ],
  });

  // Phases in the order they ran, across every run (a phase added later joins at the end).
  const phases = [...new Set(runs.flatMap((run) => run.phases.map((phase) => phase.name)))];
  const probes = [
    ...new Set(runs.flatMap((run) => run.phases.flatMap((phase) => [...phaseAvailability(phase).keys()]))),
  ];
  const availability = runs.map(
    (run) => new Map(run.phases.map((phase) => [phase.name, phaseAvailability(phase)])),
  );
  const availabilityCharts = probes.map(
    (probe) =>
      html`<figure class="trend-chart"><figcaption>${probe}</figcaption>${lineChart({
        title: `${probe}: availability during each phase`,
        x,
        y: { max: 1, tick: (ratio) => `${Math.round(ratio * 100)}%` },
        series: phases.map((phase, p) => ({
          name: phase,
          className: `s${p % 8}`,
          points: availability.map((byPhase, i) => ({ x: i, y: byPhase.get(phase)?.get(probe) ?? null })),
        })),
      })}</figure>`,
  );

  return selfContainedPage(
    `${name}: resilience trend`,
    STYLE + CHART_STYLE,
    html`<body><main>
<h1>${name}: resilience trend</h1>
<p class="hint">${runs.length} run(s)${runs.length ? `, ${day(runs[0]?.startedAt ?? 0)} to ${day(runs.at(-1)?.startedAt ?? 0)} UTC` : ''}.</p>
<h2>Verdict per run</h2>
<ol class="verdicts">${runs.map(
      (run) =>
        html`<li class="verdict-${run.verdict}" title="${run.runId}: ${run.reason}"><span>${day(run.startedAt).slice(0, 10)}</span><strong>${run.verdict}</strong></li>`,
    )}</ol>
<h2>Recovery time</h2>
<figure class="trend-chart">${recoveryChart}</figure>
<h2>Availability during each phase</h2>
${availabilityCharts}
<h2>Runs</h2>
<table><thead><tr><th>started (UTC)</th><th>run</th><th>verdict</th><th>recovery</th>${phases.map((phase) => html`<th>${phase}</th>`)}</tr></thead>
<tbody>${runs.map(
      (run, i) =>
        html`<tr><td>${day(run.startedAt)}</td><td><code>${run.runId}</code></td><td class="verdict-${run.verdict}">${run.verdict}</td><td>${recoveryText(run)}</td>${phases.map(
          (phase) => {
            const byProbe = availability[i]?.get(phase);
            return html`<td>${byProbe ? [...byProbe].map(([probe, ratio]) => `${probe} ${percent(ratio)}`).join(', ') : '—'}</td>`;
          },
        )}</tr>`,
    )}</tbody></table>
</main></body>`,
  );
}

function niceMax(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

const STYLE = `
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; }
main { max-width: 1100px; margin: 0 auto; padding: 12px 20px 40px; }
h2 { font-size: 19px; border-bottom: 1px solid #d8dee4; padding-bottom: 4px; margin-top: 28px; }
.hint { color: #5f6b7a; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid #d8dee4; padding: 4px 6px; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; }
.verdicts { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; padding: 0; }
.verdicts li { padding: 4px 8px; border-radius: 4px; color: #fff; font-size: 12px; display: flex; flex-direction: column; }
li.verdict-passed, td.verdict-passed { background: #1a7f37; color: #fff; }
li.verdict-deviated, td.verdict-deviated { background: #b26a00; color: #fff; }
li.verdict-aborted, td.verdict-aborted { background: #9a3412; color: #fff; }
li.verdict-rollback-failed, td.verdict-rollback-failed { background: #c62828; color: #fff; }
li.verdict-not-started, td.verdict-not-started { background: #5f6b7a; color: #fff; }
@media print { li, td { print-color-adjust: exact; -webkit-print-color-adjust: exact; } }
`;
