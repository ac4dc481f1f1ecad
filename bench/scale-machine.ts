/**
 * What the machine did while bench/scale.ts ran its runs, read from /proc every half second: the
 * CPU left idle, each process's share of it, the workers' RSS and their event-loop delay (written
 * by bench/loop-delay.mjs inside each worker). Linux only, like the machine the figures come from.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export const CORES = cpus().length;
const TICKS_PER_S = 100;

interface Reading {
  at: number;
  idleTicks: number;
  totalTicks: number;
  /** CPU ticks per watched process. */
  ticks: Record<string, number>;
  /** RSS per watched process, MiB. */
  rssMiB: Record<string, number>;
  loopP99Ms: Record<string, number>;
}

export interface Watched {
  label: string;
  pid: number;
  /** Where the process's loop-delay preload writes, for workers. */
  loopFile?: string;
}

function cpuTicks(): { idle: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1);
  const values = fields.map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { idle, total: values.reduce((sum, v) => sum + v, 0) };
}

function processTicks(pid: number): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return Number.NaN;
  }
}

export function rssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function loopP99(file: string | undefined): number {
  if (!file) return Number.NaN;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { p99Ms: number }).p99Ms;
  } catch {
    return Number.NaN;
  }
}

export class MachineMonitor {
  private readings: Reading[] = [];
  private timer: NodeJS.Timeout;

  constructor(private readonly watched: Watched[]) {
    this.read();
    this.timer = setInterval(() => this.read(), 500);
  }

  private read(): void {
    const { idle, total } = cpuTicks();
    const by = <T>(f: (w: Watched) => T) => Object.fromEntries(this.watched.map((w) => [w.label, f(w)]));
    this.readings.push({
      at: Date.now(),
      idleTicks: idle,
      totalTicks: total,
      ticks: by((w) => processTicks(w.pid)),
      rssMiB: by((w) => rssMiB(w.pid)),
      loopP99Ms: by((w) => loopP99(w.loopFile)),
    });
  }

  stop(): void {
    clearInterval(this.timer);
    this.read();
  }

  /** Figures over [from, to]; the whole record when no reading pair falls inside it. */
  window(from: number, to: number) {
    let inside = this.readings.filter((r) => r.at >= from && r.at <= to);
    if (inside.length < 2) inside = this.readings;
    const first = inside[0] as Reading;
    const last = inside.at(-1) as Reading;
    const seconds = (last.at - first.at) / 1_000 || 1;
    const totalTicks = last.totalTicks - first.totalTicks || 1;
    const cores = (label: string) =>
      ((last.ticks[label] ?? Number.NaN) - (first.ticks[label] ?? Number.NaN)) / TICKS_PER_S / seconds;
    return {
      seconds,
      /** Idle share of the whole machine, in cores (of CORES). */
      idleCores: ((last.idleTicks - first.idleTicks) / totalTicks) * CORES,
      coresBy: Object.fromEntries(this.watched.map((w) => [w.label, cores(w.label)])),
      peakRssMiB: Object.fromEntries(
        this.watched.map((w) => [w.label, Math.max(...inside.map((r) => r.rssMiB[w.label] ?? 0))]),
      ),
      /** The worst second's event-loop delay p99, per worker. */
      loopP99Ms: Object.fromEntries(
        this.watched
          .filter((w) => w.loopFile)
          .map((w) => [
            w.label,
            Math.max(0, ...inside.map((r) => r.loopP99Ms[w.label] ?? 0).filter(Number.isFinite)),
          ]),
      ),
    };
  }
}
