/**
 * A real Prometheus (from .tools, scripts/bootstrap) on a loopback port, for the lab and the tests:
 * it scrapes every `scrapeInterval` whatever targets the files in its targets directory name
 * (file-based service discovery, Prometheus's own way to follow a fleet that comes and goes), and
 * keeps its data in a scratch directory removed when it stops.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess } from '../temporal/dev-server';
import { toolBinary } from '../tools';

export interface PrometheusServer {
  url: string;
  pid: number;
  /**
   * Scrape exactly these target groups under job `job` (none stops scraping it). Written to a file
   * of its own and renamed into place, so Prometheus never reads half of it; unchanged, not rewritten.
   */
  setTargets(job: string, groups: TargetGroup[]): Promise<void>;
  /** Where the target files go: another process (a test) may write its own there. */
  targetsDir: string;
  stop(): Promise<void>;
}

/** A file_sd target group: `host:port` targets and the labels their series get. */
export interface TargetGroup {
  targets: string[];
  labels?: Record<string, string>;
}

export interface PrometheusOptions {
  port: number;
  /** Default 1s: the lab and the tests want a change seen within a second. */
  scrapeInterval?: string;
  timeoutMs?: number;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const { port, scrapeInterval = '1s', timeoutMs = 20_000 } = options;
  const dir = await mkdtemp(join(tmpdir(), 'gameday-prometheus-'));
  const targetsDir = join(dir, 'targets');
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      `  scrape_interval: ${scrapeInterval}`,
      `  scrape_timeout: ${scrapeInterval}`,
      `  evaluation_interval: ${scrapeInterval}`,
      'scrape_configs:',
      '  - job_name: file-sd',
      '    file_sd_configs:',
      `      - files: ['${targetsDir}/*.json']`,
      '        refresh_interval: 1s',
      '',
    ].join('\n'),
  );
  await mkdir(targetsDir);
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    toolBinary('prometheus'),
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const stop = async () => {
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`prometheus exited with ${child.exitCode}: ${stderr.trim()}`);
    }
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus on ${url} not ready after ${timeoutMs}ms: ${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const written = new Map<string, string>();
  return {
    url,
    pid: child.pid ?? -1,
    targetsDir,
    async setTargets(job, groups) {
      const text = JSON.stringify(groups);
      if (written.get(job) === text) return;
      written.set(job, text);
      await writeTargetGroups(targetsDir, job, groups);
    },
    stop,
  };
}

/** Writes job's target file in a targets directory (see setTargets); no groups removes it. */
export async function writeTargetGroups(
  targetsDir: string,
  job: string,
  groups: TargetGroup[],
): Promise<void> {
  const file = join(targetsDir, `${job}.json`);
  if (groups.length === 0) {
    await unlink(file).catch(() => undefined);
    return;
  }
  const staged = `${file}.tmp`;
  await writeFile(
    staged,
    JSON.stringify(groups.map((group) => ({ ...group, labels: { ...group.labels, job } }))),
  );
  await rename(staged, file);
}
