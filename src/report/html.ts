/**
 * The HTML report: one self-contained file (inline CSS and SVG, no script, no font, no network),
 * readable on a laptop and printable. A pure function of the journal; every journal value is
 * escaped by the `html` template.
 */
import { formatDuration } from '../experiment/duration';
import { probeKinds } from '../providers';
import { scorecard } from './continuity';
import { gapsOf, gapText } from './coverage';
import { describeHandle } from './fault-text';
import { type Html, html, selfContainedPage } from './html-text';
import type { HypothesisCheck, Journal } from './journal';
import { type CheckResult, checkResults, describeTolerance } from './results';
import { CHART_STYLE, lineChart } from './svg-chart';
import { type Bucket, faultWindowRows, type ProbeTimeline, type Timeline, timelineOf } from './timeline';

export function renderHtml(journal: Journal): string {
  const results = checkResults(journal);
  const timeline = timelineOf(journal);
  return selfContainedPage(
    `${journal.experiment.name}: ${journal.verdict}`,
    STYLE + CHART_STYLE,
    html`<body>
${banner(journal)}
<main>
${hypothesisSection(journal)}
${resultsSection(results)}
${continuitySection(journal)}
${timelineSection(timeline)}
${gapsSection(journal)}
${recoverySection(journal)}
${faultsSection(journal)}
${peopleSection(journal)}
${phasesSection(journal)}
${environmentSection(journal)}
${eventsSection(journal)}
</main>
</body>`,
  );
}

const when = (at: number | undefined) =>
  at === undefined ? '—' : new Date(at).toISOString().replace('T', ' ').replace('Z', ' UTC');
const clock = (at: number) => new Date(at).toISOString().slice(11, 19);

function banner(journal: Journal): Html {
  const took = formatDuration(journal.endedAt - journal.startedAt);
  return html`<header class="banner verdict-${journal.verdict}">
<p class="verdict">${journal.verdict.toUpperCase()}</p>
<h1>${journal.experiment.name}</h1>
<p class="reason">${journal.reason}</p>
<p class="meta">run <code>${journal.runId}</code> · started ${when(journal.startedAt)} · took ${took} · time scale ${journal.experiment.timeScale}</p>
${
  journal.remaining.length > 0
    ? html`<div class="still-injected"><strong>STILL INJECTED</strong><ul>${journal.remaining.map(
        (item) => html`<li><strong>${item.what}</strong>: ${item.detail}</li>`,
      )}</ul></div>`
    : ''
}
</header>`;
}

function hypothesisSection(journal: Journal): Html {
  const state = journal.steadyStateBefore ?? journal.steadyStateAfter;
  const sentence = (check: HypothesisCheck) =>
    html`<li><strong>${check.probe}</strong>${check.during ? html` while <em>${check.during}</em> is in place` : ''} holds: ${check.checks.map(describeTolerance).join(', ')}</li>`;
  const phases = journal.phases.filter((phase) => phase.watch?.expectations.length);
  return html`<section><h2>Hypothesis</h2>
<p class="description">${journal.experiment.description}</p>
${state ? html`<p>Before the faults and within ${formatDuration(journal.recovery.withinMs)} after rolling them back:</p><ul>${state.probes.map(sentence)}</ul>` : ''}
${phases.map(
  (phase) =>
    html`<p>While <strong>${phase.name}</strong> runs (${phase.faults.join(', ') || 'no faults'}):</p><ul>${phase.watch?.expectations.map(sentence)}</ul>`,
)}
</section>`;
}

function resultsSection(results: CheckResult[]): Html {
  const outcome = (result: CheckResult) =>
    result.ok === null
      ? html`<td class="not-run">not run</td>`
      : result.ok
        ? html`<td class="ok">held</td>`
        : html`<td class="failed">${result.error ? 'ERROR' : result.undersampled ? 'TOO FEW SAMPLES' : 'FAILED'}</td>`;
  return html`<section><h2>Results</h2>
<table class="results"><thead><tr><th>check</th><th>name</th><th>result</th><th>measured</th><th>tolerance</th><th>why</th></tr></thead>
<tbody>${results.map(
    (result) =>
      html`<tr><td>${result.group}</td><td>${result.name}</td>${outcome(result)}<td>${result.measured}</td><td>${result.tolerance}</td><td class="why">${result.failure}</td></tr>`,
  )}</tbody></table></section>`;
}

/** The continuity plan's scorecard: each service's RTO and RPO, target against measured. */
function continuitySection(journal: Journal): Html {
  if (!journal.continuity) return html``;
  return html`<section class="continuity"><h2>Continuity plan</h2>
<table class="results scorecard"><thead><tr><th>service</th><th>measure</th><th>target</th><th>measured</th><th>result</th><th>how</th></tr></thead>
<tbody>${scorecard(journal).map(
    (row) =>
      html`<tr data-service="${row.service}" data-measure="${row.measure}"><td>${row.service}</td><td>${row.measure}</td><td>${row.target}</td><td>${row.measured}</td>${row.held ? html`<td class="ok">held</td>` : html`<td class="failed">MISSED</td>`}<td class="why">${row.detail}</td></tr>`,
  )}</tbody></table></section>`;
}

function timelineSection(timeline: Timeline): Html {
  if (timeline.probes.length === 0)
    return html`<section><h2>Timeline</h2><p>No probe samples were taken.</p></section>`;
  const bands = [
    ...timeline.phases.map((window) => ({ kind: 'phase' as const, ...window })),
    ...timeline.faults.map((window) => ({ kind: 'fault' as const, ...window })),
  ];
  const x = {
    from: timeline.from,
    to: timeline.to,
    tick: (at: number) => `+${formatDuration(Math.round((at - timeline.from) / 1000) * 1000)}`,
  };
  const charts = timeline.probes.map((probe) => {
    const common = {
      x,
      bands: [...bands, ...probe.gaps.map((gap) => ({ kind: 'gap' as const, ...gap }))],
      markers: timeline.markers,
    };
    // A kind that measures a value (ec2Fleet's count) is charted against its range, others by latency.
    const charted = probeKinds[probe.kind]?.measures === 'value' ? countCharts(probe) : requestCharts(probe);
    return html`<figure class="probe-timeline" data-probe="${probe.probe}" data-kind="${probe.kind}">
<figcaption>${probe.probe}</figcaption>
${charted.map((chart) => lineChart({ ...common, ...chart }))}
</figure>`;
  });
  return html`<section><h2>Timeline</h2>
<p class="hint">Each shaded column is a phase; the strips along the bottom are the fault windows, from injected to reverted; a grey dashed stretch is time in which a probe should have been sampled and was not, and no line crosses it. ⚠ marks a guardrail breach, ■ an abort. Times are from the start of the run (${when(timeline.from)}).</p>
${charts}</section>`;
}

type ChartPart = Omit<Parameters<typeof lineChart>[0], 'x' | 'bands' | 'markers'>;

/** Points of one figure per bucket, with a break (null) wherever nothing was sampled. */
function pointsOf(buckets: Bucket[], value: (bucket: Bucket) => number | undefined) {
  return buckets.flatMap((bucket) => {
    const y = bucket.samples ? (value(bucket) ?? null) : null;
    const point = { x: bucket.x, y };
    return bucket.afterGap ? [{ x: bucket.x, y: null }, point] : [point];
  });
}

/** http and dynamodb probes answer requests: how fast, and how often they failed. */
function requestCharts({ probe, buckets }: ProbeTimeline): ChartPart[] {
  return [
    {
      title: `${probe}: latency p50 and p99`,
      y: { max: niceCeiling(Math.max(1, ...buckets.map((b) => b.p99))), tick: (ms) => `${Math.round(ms)}ms` },
      series: [
        { name: 'p50 latency', className: 's0', points: pointsOf(buckets, (b) => b.p50) },
        { name: 'p99 latency', className: 's1', points: pointsOf(buckets, (b) => b.p99) },
      ],
    },
    {
      title: `${probe}: error rate`,
      y: { max: 1, tick: (ratio) => `${Math.round(ratio * 100)}%` },
      series: [
        { name: 'error rate', className: 's2', points: pointsOf(buckets, (b) => b.errors / b.samples) },
      ],
    },
  ];
}

/**
 * A probe that measures a value (ec2Fleet's instance count, a PromQL or CloudWatch value): the
 * lowest and highest it measured, against its min and max.
 */
function countCharts({ probe, kind, buckets, range }: ProbeTimeline): ChartPart[] {
  const counts = kind === 'ec2Fleet';
  const measured = counts ? 'instances counted' : 'value';
  const references = [
    ...(range.min === undefined ? [] : [{ y: range.min, label: `min ${range.min}` }]),
    ...(range.max === undefined ? [] : [{ y: range.max, label: `max ${range.max}` }]),
  ];
  if (!buckets.some((b) => b.valueMin !== undefined)) {
    // Journals from before counts were recorded per bucket: only whether the count was in range.
    const outside = range.min === undefined ? 'out of range' : `below min ${range.min}`;
    return [
      {
        title: `${probe}: share of samples ${outside} (this journal has no instance counts)`,
        y: { max: 1, tick: (ratio) => `${Math.round(ratio * 100)}%` },
        series: [
          {
            name: `samples ${outside}`,
            className: 's2',
            points: pointsOf(buckets, (b) => b.errors / b.samples),
          },
        ],
      },
    ];
  }
  const highest = Math.max(
    counts ? 1 : 0,
    ...buckets.map((b) => b.valueMax ?? 0),
    ...references.map((r) => r.y),
  );
  return [
    {
      title: `${probe}: ${measured}${references.length ? `, against ${references.map((r) => r.label).join(' and ')}` : ''}`,
      y: counts
        ? { max: niceCeiling(highest + 1), tick: (count) => String(Math.round(count * 10) / 10) }
        : {
            max: highest > 0 ? niceCeiling(highest * 1.1) : 1,
            tick: (value) => String(Number(value.toPrecision(3))),
          },
      references,
      series: [
        {
          name: counts ? 'fewest counted' : 'lowest',
          className: 's3',
          points: pointsOf(buckets, (b) => b.valueMin),
        },
        {
          name: counts ? 'most counted' : 'highest',
          className: 's4',
          points: pointsOf(buckets, (b) => b.valueMax),
        },
      ],
    },
  ];
}

function gapsSection(journal: Journal): Html {
  const gaps = gapsOf(journal);
  if (gaps.length === 0) return html``;
  return html`<section><h2>Gaps in the record</h2>
<p class="hint">Stretches in which a probe should have been sampled and was not (a worker or the Temporal server was down, or requests piled up): nothing is known of the system there.</p>
<ul class="gaps">${gaps.map((gap) => html`<li>${gapText(gap, journal.startedAt)}</li>`)}</ul></section>`;
}

function recoverySection(journal: Journal): Html {
  const { recoveredAfterMs, withinMs } = journal.recovery;
  const text =
    recoveredAfterMs === null
      ? journal.steadyStateAfter
        ? `The steady state did not return within ${formatDuration(withinMs)} of rollback.`
        : 'Recovery was not measured: the run ended before the steady state could be checked again.'
      : `The steady state held again ${formatDuration(recoveredAfterMs)} after rollback (allowed ${formatDuration(withinMs)}).`;
  return html`<section><h2>Recovery</h2><p class="recovery">${text}</p></section>`;
}

function faultsSection(journal: Journal): Html {
  const windows = faultWindowRows(journal);
  if (windows.length === 0) return html`<section><h2>Faults</h2><p>No fault was injected.</p></section>`;
  const how = (fault: Journal['faults'][number]) =>
    [
      fault.status,
      fault.alreadyGone ? 'already gone when reverted' : '',
      fault.injectError ? `inject failed: ${fault.injectError}` : '',
      fault.lastRevertError ? `last revert error: ${fault.lastRevertError}` : '',
      fault.revertNote ?? '',
    ]
      .filter(Boolean)
      .join('; ');
  return html`<section><h2>Faults</h2>
<table class="faults"><thead><tr><th>fault</th><th>phase</th><th>what</th><th>injected at</th><th>reverted at</th><th>window</th><th>how</th><th>revert attempt</th></tr></thead>
<tbody>${windows.map((row) => {
    const fault = journal.faults.find((f) => f.handle.name === row.fault);
    if (!fault)
      return html`<tr class="not-injected"><td>${row.fault}</td><td>${row.phase}</td><td></td><td></td><td></td><td>${row.window}</td><td>not injected</td><td>0</td></tr>`;
    return html`<tr class="${fault.status === 'reverted' ? '' : 'failed'}"><td>${fault.handle.name}</td><td>${fault.handle.phase}</td><td>${describeHandle(fault.handle)}</td><td>${when(fault.injectedAt)}</td><td>${when(fault.revertedAt)}</td><td>${row.window}</td><td>${how(fault)}</td><td>${fault.revertAttempts}</td></tr>`;
  })}</tbody></table>
${
  journal.rollbackSteps.length > 0
    ? html`<h3>Rollback steps</h3><ul>${journal.rollbackSteps.map(
        (step) =>
          html`<li>${when(step.at)} ${step.name}: ${step.ok ? 'done' : html`<strong class="failed">FAILED</strong> ${step.error ?? ''}`} after ${step.attempts} attempt(s)</li>`,
      )}</ul>`
    : ''
}
</section>`;
}

function peopleSection(journal: Journal): Html {
  const entries = [
    ...journal.signals.map((signal) => ({
      at: signal.at,
      by: signal.by,
      kind: signal.type,
      text: signal.reason,
    })),
    ...journal.notes.map((note) => ({ at: note.at, by: note.by, kind: 'note', text: note.text })),
  ].sort((a, b) => a.at - b.at);
  return html`<section><h2>Observer notes and signals</h2>
${
  entries.length === 0
    ? html`<p>No notes, and nobody aborted the run.</p>`
    : html`<ul class="notes">${entries.map(
        (entry) =>
          html`<li class="${entry.kind}"><span class="when">${when(entry.at)}</span> <strong>${entry.kind}</strong> by ${entry.by}: <span class="note-text">${entry.text}</span></li>`,
      )}</ul>`
}
</section>`;
}

function phasesSection(journal: Journal): Html {
  return html`<section><h2>Phases</h2>
<table><thead><tr><th>phase</th><th>planned</th><th>from</th><th>to</th><th>faults</th><th>notes</th></tr></thead>
<tbody>${journal.phases.map((phase) => {
    const watch = phase.watch;
    const notes = [
      watch?.breach ? `guardrail ${watch.breach.guardrail} breached at ${clock(watch.breach.decidedAt)}` : '',
      watch && watch.attempts > 1
        ? `the watch resumed on another worker (${watch.attempts} attempts: ${watch.workers.join(', ')})`
        : '',
      ...(watch?.observations ?? []).map(
        (o) =>
          `${o.subject}: ${o.states.map((s) => `${s.status} at ${clock(s.at)}`).join(', ') || 'no state seen'}`,
      ),
    ].filter(Boolean);
    return html`<tr><td>${phase.name}</td><td>${formatDuration(phase.plannedMs)}</td><td>${when(phase.startedAt)}</td><td>${when(phase.endedAt)}</td><td>${phase.faults.join(', ')}</td><td>${notes.join('; ')}</td></tr>`;
  })}</tbody></table></section>`;
}

function environmentSection(journal: Journal): Html {
  const targets = [...new Set(journal.faults.map((fault) => describeHandle(fault.handle)))];
  const rows: [string, string][] = [
    ['gameday', journal.environment.gameday],
    ['experiment file', journal.experiment.file],
    ['file sha256', journal.experiment.sha256],
    ['environment', journal.experiment.environment],
    ['tags', journal.experiment.tags.join(', ') || '—'],
    [
      'Temporal',
      `namespace ${journal.environment.temporal.namespace}, task queue ${journal.environment.temporal.taskQueue}, workflow ${journal.environment.temporal.workflowId}`,
    ],
    [
      'AWS account',
      journal.environment.awsAccount
        ? `${journal.environment.awsAccount.id} (${journal.environment.awsAccount.arn})`
        : '—',
    ],
  ];
  return html`<section><h2>Environment</h2>
<table class="environment"><tbody>${rows.map(([key, value]) => html`<tr><th>${key}</th><td>${value}</td></tr>`)}</tbody></table>
<h3>Targets</h3><ul>${targets.map((target) => html`<li>${target}</li>`)}</ul>
</section>`;
}

function eventsSection(journal: Journal): Html {
  return html`<section><details><summary>Event log (${journal.events.length} events)</summary>
<ol class="events">${journal.events.map((event) => html`<li><span class="when">${clock(event.at)}</span> <code>${event.type}</code> ${event.message}</li>`)}</ol>
</details></section>`;
}

/** 1, 2 or 5 times a power of ten, at or above the value: axis maxima people can read. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

const STYLE = `
:root { --ok: #1a7f37; --bad: #c62828; --warn: #b26a00; --muted: #5f6b7a; --line: #d8dee4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 0 20px 40px; }
.banner { padding: 20px max(20px, calc((100vw - 1060px) / 2)); color: #fff; }
.banner h1 { margin: 0 0 4px; font-size: 24px; }
.banner .verdict { margin: 0; font-weight: 700; letter-spacing: .08em; }
.banner .reason { margin: 4px 0; font-size: 17px; }
.banner .meta { margin: 4px 0 0; opacity: .9; font-size: 13px; }
.banner code { color: inherit; }
.verdict-passed { background: var(--ok); }
.verdict-deviated { background: var(--warn); }
.verdict-aborted { background: #9a3412; }
.verdict-rollback-failed { background: var(--bad); }
.verdict-not-started { background: var(--muted); }
.still-injected { background: #fff; color: var(--bad); padding: 8px 12px; margin-top: 10px; border-radius: 4px; }
h2 { margin: 28px 0 8px; font-size: 19px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
td.ok, td.failed, td.not-run { white-space: nowrap; }
thead th { background: #f6f8fa; }
td.ok { color: var(--ok); font-weight: 600; }
td.failed, .failed { color: var(--bad); font-weight: 600; }
td.not-run { color: var(--muted); }
td.why { white-space: pre-line; }
.hint, .description { color: var(--muted); }
.description { white-space: pre-line; }
.notes li { margin: 3px 0; } .note-text { white-space: pre-wrap; }
.when { color: var(--muted); font-variant-numeric: tabular-nums; }
.events { font-size: 12px; }
@media print {
  body { font-size: 11pt; }
  .banner { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  details > * { display: block; }
  section { break-inside: auto; }
  tr { break-inside: avoid; }
}
`;
