/**
 * Runs of one experiment side by side (`gameday report --compare`): per phase and probe the
 * availability, p99 and error classes, per service the RTO and RPO, each run's verdict, and the
 * rows in which the runs differ. A pure function of the journals, shared by the HTML and the
 * Markdown so they cannot disagree; a run compared with itself differs nowhere.
 */
import { formatDuration } from '../experiment/duration';
import { rpoMeasured, rtoMeasured } from './continuity';
import type { Journal } from './journal';
import { percent } from './results';

export interface CompareRow {
  /** Where the row belongs: `run`, a phase's name, or `service <name>`. */
  section: string;
  label: string;
  /** One value per run, in the order the runs were given. */
  values: string[];
  /** Whether the runs disagree on this row. */
  differs: boolean;
  /** A held/missed row: which runs missed (drawn as failed). */
  failed?: boolean[];
}

export interface Comparison {
  experiment: string;
  runs: { runId: string; label: string; verdict: string; startedAt: number }[];
  rows: CompareRow[];
}

/** A short name for each run: what its run id says beyond what all of them share. */
function labels(journals: readonly Journal[]): string[] {
  const ids = journals.map((j) => j.runId);
  const seen = new Map<string, number>();
  return ids.map((id) => {
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    return ids.filter((other) => other === id).length > 1 ? `${id} (#${n})` : id;
  });
}

export function compareRuns(journals: readonly Journal[]): Comparison {
  const rows: CompareRow[] = [];
  const add = (section: string, label: string, values: string[], failed?: boolean[], differs?: boolean) =>
    rows.push({
      section,
      label,
      values,
      differs: differs ?? new Set(values).size > 1,
      ...(failed ? { failed } : {}),
    });

  add(
    'run',
    'verdict',
    journals.map((j) => j.verdict),
    journals.map((j) => j.verdict !== 'passed'),
  );
  add(
    'run',
    'recovery after rollback',
    journals.map((j) =>
      j.recovery.recoveredAfterMs === null ? 'not recovered' : formatDuration(j.recovery.recoveredAfterMs),
    ),
    undefined,
    apart(
      journals.map((j) => j.recovery.recoveredAfterMs),
      RECOVERY_NOISE_MS,
    ),
  );

  const phaseNames = unique(journals.flatMap((j) => j.phases.map((p) => p.name)));
  for (const phase of phaseNames) {
    const records = journals.map((j) => j.phases.find((p) => p.name === phase));
    const probes = unique(records.flatMap((r) => r?.watch?.expectations.map((e) => e.probe) ?? []));
    for (const probe of probes) {
      const checks = records.map((r) => r?.watch?.expectations.find((e) => e.probe === probe));
      add(
        phase,
        `${probe} availability`,
        checks.map((c) => (c?.summary.samples ? percent(1 - c.summary.errorRate) : '-')),
      );
      add(
        phase,
        `${probe} p99`,
        checks.map((c) => (c?.summary.latencyMs ? `${c.summary.latencyMs.p99}ms` : '-')),
        undefined,
        apart(
          checks.map((c) => c?.summary.latencyMs?.p99 ?? null),
          P99_NOISE_MS,
          1.25,
        ),
      );
      add(
        phase,
        `${probe} error classes`,
        checks.map((c) =>
          c ? c.summary.topErrors.map((e) => `${e.message} ×${e.count}`).join('; ') || 'none' : '-',
        ),
      );
      add(
        phase,
        `${probe} held`,
        checks.map((c) => (c ? (c.ok ? 'held' : 'FAILED') : 'not run')),
        checks.map((c) => !c?.ok),
      );
    }
  }

  const services = unique(journals.flatMap((j) => j.continuity?.services.map((s) => s.service) ?? []));
  for (const name of services) {
    const found = journals.map((j) => j.continuity?.services.find((s) => s.service === name));
    const section = `service ${name}`;
    add(
      section,
      'RTO target',
      found.map((s) => (s ? formatDuration(s.rto.targetMs) : '-')),
    );
    add(
      section,
      'RTO measured',
      found.map((s) => (s ? rtoMeasured(s.rto) : 'not measured')),
      found.map((s) => !s?.rto.held),
    );
    if (found.some((s) => s?.rpo)) {
      add(
        section,
        'RPO target',
        found.map((s) =>
          s?.rpo ? (s.rpo.targetMs === 0 ? 'no write lost' : formatDuration(s.rpo.targetMs)) : '-',
        ),
      );
      add(
        section,
        'RPO measured',
        found.map((s) => (s?.rpo ? rpoMeasured(s.rpo) : 'not measured')),
        found.map((s) => !s?.rpo?.held),
      );
      add(
        section,
        'writes read back',
        found.map((s) => (s?.rpo ? `${s.rpo.checked} of ${s.rpo.acknowledged}` : '-')),
      );
    }
  }

  const names = labels(journals);
  return {
    experiment: journals[0]?.experiment.name ?? '',
    runs: journals.map((j, i) => ({
      runId: j.runId,
      label: names[i] ?? j.runId,
      verdict: j.verdict,
      startedAt: j.startedAt,
    })),
    rows,
  };
}

/** The rows where the runs disagree, in words. */
export function differences(comparison: Comparison): string[] {
  return comparison.rows
    .filter((row) => row.differs)
    .map(
      (row) =>
        `${row.section === 'run' ? '' : `${row.section}: `}${row.label}: ${row.values
          .map((value, i) => `${comparison.runs[i]?.label} ${value}`)
          .join(' · ')}`,
    );
}

export const NO_DIFFERENCE = 'No difference: the runs measured the same on every row.';

export function renderCompareMarkdown(comparison: Comparison): string {
  const cell = (text: string) =>
    text
      .replace(/[\\|[\]()!`*_~@#]/g, (c) => `\\${c}`)
      .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))
      .replace(/\r?\n/g, ' ');
  const lines = [`# ${cell(comparison.experiment)}: ${comparison.runs.length} runs compared`, ''];
  for (const [i, run] of comparison.runs.entries())
    lines.push(
      `${i + 1}. \`${run.runId}\`: ${run.verdict}, started ${new Date(run.startedAt).toISOString()}`,
    );
  lines.push('', '## What differs', '');
  const diffs = differences(comparison);
  lines.push(...(diffs.length ? diffs.map((d) => `- ${cell(d)}`) : [NO_DIFFERENCE]), '');
  for (const section of unique(comparison.rows.map((r) => r.section))) {
    lines.push(`## ${cell(section)}`, '');
    lines.push(`| | ${comparison.runs.map((r) => cell(r.label)).join(' | ')} |`);
    lines.push(`|---|${comparison.runs.map(() => '---').join('|')}|`);
    for (const row of comparison.rows.filter((r) => r.section === section))
      lines.push(
        `| ${row.differs ? '**' : ''}${cell(row.label)}${row.differs ? '**' : ''} | ${row.values.map(cell).join(' | ')} |`,
      );
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * Latencies and recovery times are never equal to the millisecond twice: they differ when they are
 * further apart than noise (absolutely, and by `ratio` when given), or one is missing.
 */
const P99_NOISE_MS = 50;
const RECOVERY_NOISE_MS = 1_000;
function apart(values: readonly (number | null)[], noiseMs: number, ratio = 1): boolean {
  if (values.some((v) => v === null)) return values.some((v) => v !== null);
  const numbers = values as number[];
  const low = Math.min(...numbers);
  const high = Math.max(...numbers);
  return high - low > noiseMs && high > low * ratio;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
