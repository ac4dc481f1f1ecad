/**
 * The replay's fidelity table: for each fault window of `experiments/oct20/replay.yaml`, what
 * clients saw on 20 October 2025 (OCT20.md: history, so it is text here) beside what the lab's
 * clients saw in each run (measured: read from the run's journal alone). A pure function of the
 * journals, as every report is.
 *
 * What a run measured in a window is in its expectations `during` that fault:
 *   - the orders API as its clients saw it: the http probes' failed samples and their top errors
 *     (`status 503`, `ECONNRESET`, ...);
 *   - the services' own AWS SDK errors by class: the prometheus probes on
 *     `gameday_lab_aws_errors_total` (ERROR_CLASS_PROBES), as their peak rate in the window.
 */
import type { HypothesisCheck, Journal } from './journal';

/** What the replay's faults stand for on October 20: phase, offsets from T0, what clients saw (OCT20.md). */
export const OCT20_BY_FAULT: Record<string, { phase: string; offsets: string; clientsSaw: string }> = {
  'dynamodb-name-void': {
    phase: 'P1 DNS void',
    offsets: '+0:00 → +2:52',
    clientsSaw: "DynamoDB's name resolved to no address: DNS resolution failures, no new connections",
  },
  'ec2-launches-fail': {
    phase: 'P2 lease collapse',
    offsets: '+0:00 → +5:40',
    clientsSaw: 'RunInstances failed with InsufficientInstanceCapacity; running instances kept working',
  },
  'network-propagation-stalls': {
    phase: 'P3 network backlog',
    offsets: '+5:40 → +10:48',
    clientsSaw: 'new instances launched without network connectivity',
  },
  'health-checks-flap': {
    phase: 'P4 NLB flapping',
    offsets: '+5:42 → +9:48',
    clientsSaw: 'connection errors and resets through load balancers',
  },
  'ec2-api-throttled-100': {
    phase: 'P5 throttled recovery (100%)',
    offsets: '+5:40 → +14:02',
    clientsSaw: 'RequestLimitExceeded on EC2 calls, high latency',
  },
  'ec2-api-throttled-50': {
    phase: 'P5 throttled recovery (50%)',
    offsets: '+5:40 → +14:02',
    clientsSaw: 'RequestLimitExceeded, easing off',
  },
  'ec2-api-throttled-10': {
    phase: 'P5 throttled recovery (10%)',
    offsets: '+5:40 → +14:02',
    clientsSaw: 'RequestLimitExceeded, easing off',
  },
};

/** The replay's probes that count the services' failed AWS calls, and the error class each counts. */
export const ERROR_CLASS_PROBES: Record<string, string> = {
  'dns-errors': 'ENODATA/ENOTFOUND',
  'capacity-errors': 'InsufficientInstanceCapacity',
  'throttle-errors': 'RequestLimitExceeded',
};

export interface FidelityRow {
  fault: string;
  phase: string;
  offsets: string;
  oct20: string;
  /** The fault's window in the first run, in seconds from the first phase's start. */
  labWindow: string;
  /** Per run, what its clients saw in the window. */
  lab: string[];
}

export interface FidelityRun {
  label: string;
  journal: Journal;
}

/** One row per fault of the replay whose window a run judged, in the order the faults went in. */
export function fidelityRows(runs: readonly FidelityRun[]): FidelityRow[] {
  const first = runs[0]?.journal;
  if (!first) return [];
  const start = first.phases[0]?.startedAt ?? first.startedAt;
  const seconds = (at: number | undefined) =>
    at === undefined ? '?' : `${Math.round((at - start) / 1_000)}s`;
  return first.faults
    .filter((fault) => OCT20_BY_FAULT[fault.handle.name] && during(first, fault.handle.name).length > 0)
    .map((fault) => {
      const name = fault.handle.name;
      const day = OCT20_BY_FAULT[name] as (typeof OCT20_BY_FAULT)[string];
      return {
        fault: name,
        phase: day.phase,
        offsets: day.offsets,
        oct20: day.clientsSaw,
        labWindow: `+${seconds(fault.injectedAt)} → +${seconds(fault.revertedAt)}`,
        lab: runs.map((run) => sawIn(during(run.journal, name))),
      };
    });
}

function during(journal: Journal, fault: string): HypothesisCheck[] {
  return journal.phases.flatMap((p) => p.watch?.expectations ?? []).filter((e) => e.during === fault);
}

/** What one run's clients saw in a window: the AWS error classes counted, then the orders API. */
function sawIn(checks: HypothesisCheck[]): string {
  const parts: string[] = [];
  for (const check of checks) {
    const errorClass = ERROR_CLASS_PROBES[check.probe];
    if (!errorClass) continue;
    const peak = Math.max(0, ...check.summary.buckets.map((b) => b.valueMax ?? 0));
    parts.push(peak > 0 ? `${errorClass} (up to ${round(peak)}/s)` : `no ${errorClass}`);
  }
  const api = checks.filter((c) => c.probe.startsWith('orders-'));
  if (api.length > 0) {
    const samples = api.reduce((n, c) => n + c.summary.samples, 0);
    const errors = api.reduce((n, c) => n + c.summary.errors, 0);
    const ok = samples === 0 ? '-' : `${(100 * (1 - errors / samples)).toFixed(1)}%`;
    const top = new Map<string, number>();
    for (const c of api)
      for (const e of c.summary.topErrors) top.set(e.message, (top.get(e.message) ?? 0) + e.count);
    const named = [...top]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 2)
      .map(([message, count]) => `${message} ×${count}`);
    parts.push(`orders API ${ok} ok${named.length ? ` (${named.join(', ')})` : ''}`);
  }
  return parts.join('; ');
}

const round = (value: number) => (value >= 10 ? value.toFixed(0) : value.toFixed(1));

const cell = (text: string) =>
  text
    .replace(/[\\|[\]`*_~]/g, (c) => `\\${c}`)
    .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))
    .replace(/\r?\n/g, ' ');

/** The table as Markdown: one row per fault window, a column per run. */
export function renderFidelityMarkdown(runs: readonly FidelityRun[]): string {
  const head = ['October 20 phase', 'offsets', 'what clients saw on October 20', 'lab window'];
  const lines = [
    `| ${[...head, ...runs.map((r) => `${r.label} build's clients`)].map(cell).join(' | ')} |`,
    `|${[...head, ...runs].map(() => '---').join('|')}|`,
  ];
  for (const row of fidelityRows(runs))
    lines.push(`| ${[row.phase, row.offsets, row.oct20, row.labWindow, ...row.lab].map(cell).join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}
