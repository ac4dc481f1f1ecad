/**
 * The October 20 replay against one build of the lab, end to end, and what a reader of its
 * reports gets. The helpers run things and return what they saw; the two replay tests assert.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildName } from '../src/lab/builds';
import { probeKinds } from '../src/providers';
import type { Journal } from '../src/report/journal';
import { timelineOf } from '../src/report/timeline';
import { PROJECT_ROOT } from '../src/tools';
import { openReport } from './browser';
import { type CliResult, gameday, scratchDir, uniqueName } from './helpers';
import { junitErrors } from './junit-schema';
import {
  faultSightings,
  type LabState,
  labCliEnv,
  type Observation,
  observeLab,
  restoredState,
  settledLabState,
  startLab,
  takeLabDown,
} from './lab-helpers';

export const REPLAY_PHASES = ['dynamodb-outage', 'ec2-recovery'];
/** Every fault of the replay, in the order they go in: OCT20.md's offsets, compressed. */
export const REPLAY_FAULTS = [
  'dynamodb-name-void',
  'ec2-launches-fail',
  'hosts-lost',
  'network-propagation-stalls',
  'capacity-churns',
  'ec2-api-throttled-100',
  'health-checks-flap',
  'ec2-api-throttled-50',
  'ec2-api-throttled-10',
];

export interface Replay {
  run: CliResult;
  journal: Journal;
  runDir: string;
  /** What the lab's servers showed while the run went on. */
  seen: Observation[];
  /** The services' own counts of their failed AWS calls in each fault's window (the lab's Prometheus). */
  errorsByWindow: ErrorsByWindow;
  lab: { size: number; after: LabState; down: { processes: number[]; left: number[] } };
}

/** Brings a lab up, replays experiments/oct20/replay.yaml in it, and takes it down. */
export async function replayAgainst(build: BuildName): Promise<Replay> {
  const lab = await startLab(build);
  const observer = observeLab(lab);
  const out = await scratchDir('replay');
  const runId = uniqueName(`replay-${build}`);
  let run: CliResult;
  let after: LabState;
  try {
    run = await gameday(
      ['run', '--local', join(PROJECT_ROOT, 'experiments/oct20/replay.yaml'), '--out', out, '--id', runId],
      labCliEnv(lab),
    ).done;
    after = await settledLabState(lab);
  } finally {
    await observer.stop();
  }
  const journalText = await readFile(join(out, runId, 'journal.json'), 'utf8');
  // Kept beside the report's screenshot: a replay that failed on a busy machine can be read after.
  await mkdir(join(PROJECT_ROOT, 'test-results'), { recursive: true });
  await writeFile(join(PROJECT_ROOT, 'test-results', `journal-replay-${build}.json`), journalText);
  const journal: Journal = JSON.parse(journalText);
  const errorsByWindow = await awsErrorsByWindow(lab.endpoints.prometheus ?? '', journal);
  const down = await takeLabDown(lab);
  return {
    run,
    journal,
    runDir: join(out, runId),
    seen: observer.seen,
    errorsByWindow,
    lab: { size: lab.size, after, down },
  };
}

/** Per fault, `service:error` → how many of that service's AWS calls failed so in the fault's window. */
export type ErrorsByWindow = Record<string, Record<string, number>>;

/** A scrape (every 1s) after a window's end still counts what failed inside it. */
const SCRAPE_LAG_MS = 1_500;

/**
 * The services' own counts, not the journal's: `gameday_lab_aws_errors_total` (each orders
 * instance's DynamoDB calls, the autoscaler's EC2 calls, by the SDK's error name), increased over
 * each fault's window as the journal recorded it, from the lab's Prometheus.
 */
async function awsErrorsByWindow(prometheus: string, journal: Journal): Promise<ErrorsByWindow> {
  const windows: ErrorsByWindow = {};
  for (const fault of journal.faults) {
    if (fault.injectedAt === undefined || fault.revertedAt === undefined) continue;
    const end = fault.revertedAt + SCRAPE_LAG_MS;
    const seconds = Math.ceil((end - fault.injectedAt) / 1_000);
    const query = `sum by (service, error) (increase(gameday_lab_aws_errors_total[${seconds}s]))`;
    const url = `${prometheus}/api/v1/query?${new URLSearchParams({ query, time: String(end / 1_000) })}`;
    const answer = (await fetch(url).then((r) => r.json())) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    windows[fault.handle.name] = Object.fromEntries(
      answer.data.result
        .map((r) => [`${r.metric.service}:${r.metric.error}`, Number(r.value[1])] as const)
        .filter(([, count]) => count > 0),
    );
  }
  return windows;
}

/** The error classes (`service:error`) the services counted in a fault's window. */
export const errorClassesIn = (replay: Replay, fault: string): string[] =>
  Object.keys(replay.errorsByWindow[fault] ?? {}).sort();

/**
 * What the servers and the journal showed, against what every replay must show whatever the
 * build: every fault injected, late ones in the order of their offsets, and on the servers inside its own
 * window and not outside it (none before the first phase), every fault reverted, the lab whole
 * again, then every one of its processes gone.
 */
export function replayFacts(replay: Replay) {
  const { journal, seen, lab } = replay;
  const sightings = faultSightings(journal, seen);
  return {
    phases: journal.phases.map((p) => p.name),
    // Recorded as they went in: a phase's faults at its start in the file's order, then each late one.
    faultsInjectedInOrder: journal.faults.filter((f) => f.injectedAt !== undefined).map((f) => f.handle.name),
    faultsNotSeenInTheirWindow: REPLAY_FAULTS.filter((fault) => (sightings.inWindow[fault] ?? 0) <= 2),
    faultsSeenOutsideTheirWindow: Object.entries(sightings.outsideWindow)
      .filter(([, looks]) => looks > 0)
      .map(([fault, looks]) => `${fault}: ${looks}`),
    looksBeforeTheFirstPhase: sightings.before > 0,
    looksBeforeTheFirstPhaseWithAFault: sightings.faultyBefore,
    faultsNotReverted: journal.faults.filter((f) => f.status !== 'reverted').map((f) => f.handle.name),
    labAfter: lab.after,
    // The supervisor, Temporal, Toxiproxy, moto and every orders instance.
    labProcessesFound: lab.down.processes.length >= 4 + lab.size,
    labProcessesLeft: lab.down.left,
  };
}

export function cleanReplayFacts(replay: Replay): ReturnType<typeof replayFacts> {
  const running = replay.lab.after.running.length === replay.lab.size ? replay.lab.after.running : [];
  return {
    phases: REPLAY_PHASES,
    faultsInjectedInOrder: REPLAY_FAULTS,
    faultsNotSeenInTheirWindow: [],
    faultsSeenOutsideTheirWindow: [],
    looksBeforeTheFirstPhase: true,
    looksBeforeTheFirstPhaseWithAFault: 0,
    faultsNotReverted: [],
    labAfter: restoredState({ size: replay.lab.size }, running),
    labProcessesFound: true,
    labProcessesLeft: [],
  };
}

/**
 * The orders API's availability in a phase: the share of reads, of writes, or of both, that
 * succeeded. Both together where the load balancer's round robin decides which target a request
 * meets: reads and writes take turns, so one probe alone can keep missing the broken target.
 */
type OrdersProbe = 'orders-read' | 'orders-write';

/** Over the whole phase, or `during` one of its faults: the window its expectation was judged over. */
export function availability(
  journal: Journal,
  phase: string,
  probes: OrdersProbe | OrdersProbe[],
  during?: string,
): number {
  const checks = [probes].flat().map((probe) => {
    const check = journal.phases
      .find((p) => p.name === phase)
      ?.watch?.expectations.find((e) => e.probe === probe && e.during === during);
    if (!check) throw new Error(`no ${probe} figures for ${phase}${during ? ` during ${during}` : ''}`);
    return check.summary;
  });
  const samples = checks.reduce((sum, summary) => sum + summary.samples, 0);
  const errors = checks.reduce((sum, summary) => sum + summary.errors, 0);
  return samples === 0 ? 0 : 1 - errors / samples;
}

/** Text from outside (a note, an abort reason) that must render as text, whatever it contains. */
export const HOSTILE = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> & "quotes"`;

export interface ReportsRead {
  /** The HTML report in real Chromium. */
  html: {
    verdict: string | null;
    timelines: number;
    charts: { phaseBands: number; faultWindows: number; hasSeries: boolean }[];
    /** What the browser complained about: console errors, page errors, requests beyond the file. */
    complaints: string[];
  };
  junitErrors: Record<string, string[]>;
  /** The journal with a HOSTILE note, rendered by `gameday report` and opened in Chromium. */
  hostile: { exitCode: number | null; noteText: string | null; scriptsOrImages: number; pwned: unknown };
  hostileComplaints: string[];
}

/** The reports a run wrote, as their readers get them. */
export async function readReports(journal: Journal, runDir: string, build: BuildName): Promise<ReportsRead> {
  const report = await openReport(join(runDir, 'report.html'));
  let html: ReportsRead['html'];
  try {
    const charts = [];
    for (const chart of await report.page.locator('svg.chart').all()) {
      charts.push({
        phaseBands: await chart.locator('.phase-band').count(),
        faultWindows: await chart.locator('.fault-window').count(),
        hasSeries: (await chart.locator('.series path').count()) > 0,
      });
    }
    html = {
      verdict: await report.page.locator('.banner .verdict').textContent(),
      timelines: await report.page.locator('figure.probe-timeline').count(),
      charts,
      complaints: report.complaints,
    };
    await report.screenshot(`report-${build}`);
  } finally {
    await report.close();
  }

  const tampered: Journal = {
    ...journal,
    notes: [{ at: journal.startedAt + 1_000, by: '<b>mallory</b>', text: HOSTILE }],
  };
  const hostileJournal = join(runDir, 'hostile-journal.json');
  await writeFile(hostileJournal, JSON.stringify(tampered));
  const hostileHtml = join(runDir, 'hostile.html');
  const rendered = await gameday(['report', hostileJournal, '--format', 'html', '--out', hostileHtml]).done;
  const page = await openReport(hostileHtml);
  try {
    return {
      html,
      junitErrors: await junitErrors(await readFile(join(runDir, 'junit.xml'), 'utf8')),
      hostile: {
        exitCode: rendered.code,
        noteText: await page.page.locator('.notes .note-text').textContent(),
        scriptsOrImages: await page.page.locator('script, main img').count(),
        pwned: await page.page.evaluate('typeof window.pwned'),
      },
      hostileComplaints: page.complaints,
    };
  } finally {
    await page.close();
  }
}

/**
 * What the HTML report of this journal must show: per probe the charts of its kind (requests as
 * latency and error rate, a fleet as the instances it counted), each with a band per phase.
 */
export function expectedHtml(journal: Journal): ReportsRead['html'] {
  const { probes } = timelineOf(journal);
  // A probe that measures a value (ec2Fleet, prometheus) has one chart; a request probe two.
  const charts = probes.reduce((n, p) => n + (probeKinds[p.kind]?.measures === 'value' ? 1 : 2), 0);
  const injected = journal.faults.filter((f) => f.injectedAt !== undefined).length;
  return {
    verdict: journal.verdict.toUpperCase(),
    timelines: new Set(probes.map((p) => p.probe)).size,
    charts: Array.from({ length: charts }, () => ({
      phaseBands: journal.phases.length,
      faultWindows: injected,
      hasSeries: true,
    })),
    complaints: [],
  };
}
