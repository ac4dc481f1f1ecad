/** The comparison of runs as one self-contained HTML page (no script, no font, no request). */
import { type Comparison, differences, NO_DIFFERENCE } from './compare';
import { html, selfContainedPage } from './html-text';

const STYLE = `
:root { --ok: #1a7f37; --bad: #b42318; --line: #d0d7de; --muted: #57606a; --differs: #fff4d6; }
body { font: 15px/1.5 system-ui, sans-serif; margin: 0; color: #1f2328; }
header, main { max-width: 1200px; margin: 0 auto; padding: 0 1.5rem; }
header { padding-top: 1.5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
tr.differs td, tr.differs th { background: var(--differs); }
td.failed { color: var(--bad); font-weight: 600; }
td.ok { color: var(--ok); }
.muted { color: var(--muted); }
@media print { tr.differs td { background: none; font-weight: 600; } }
`;

export function renderCompareHtml(comparison: Comparison): string {
  const diffs = differences(comparison);
  const sections = [...new Set(comparison.rows.map((r) => r.section))];
  return selfContainedPage(
    `${comparison.experiment}: ${comparison.runs.length} runs compared`,
    STYLE,
    html`<body>
<header><h1>${comparison.experiment}: ${comparison.runs.length} runs compared</h1>
<ol class="runs">${comparison.runs.map((run) => html`<li><code>${run.runId}</code>: <strong>${run.verdict}</strong> <span class="muted">started ${new Date(run.startedAt).toISOString()}</span></li>`)}</ol></header>
<main>
<section class="differences"><h2>What differs</h2>
${diffs.length ? html`<ul>${diffs.map((d) => html`<li>${d}</li>`)}</ul>` : html`<p class="no-difference">${NO_DIFFERENCE}</p>`}
</section>
${sections.map(
  (section) => html`<section data-section="${section}"><h2>${section}</h2>
<table><thead><tr><th></th>${comparison.runs.map((run) => html`<th>${run.label}</th>`)}</tr></thead>
<tbody>${comparison.rows
    .filter((row) => row.section === section)
    .map(
      (row) =>
        html`<tr${row.differs ? html` class="differs"` : ''}><th>${row.label}</th>${row.values.map(
          (value, i) =>
            row.failed
              ? html`<td class="${row.failed[i] ? 'failed' : 'ok'}">${value}</td>`
              : html`<td>${value}</td>`,
        )}</tr>`,
    )}</tbody></table></section>`,
)}
</main>
</body>`,
  );
}
