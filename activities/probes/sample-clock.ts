/**
 * One clock for every sampler of this worker: the next due time of each sampler in a min-heap, and
 * a single timer set for the earliest. A worker watching a hundred runs then keeps one timer and
 * allocates none per sample, where each sampler used to set a fresh one for every sample (over
 * 2,000 a second at 200 runs). Times are `performance.now()`, so a step of the wall clock neither
 * bunches samples up nor leaves a gap.
 */

export interface DueSample {
  readonly at: number;
  cancelled: boolean;
  readonly fire: () => void;
}

/** A sample due within this much of now fires in this turn: timers have millisecond resolution. */
const SAME_TURN_MS = 1;

class SampleClock {
  private readonly heap: DueSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  /** While due samples fire: what they schedule waits for the one re-arm after them. */
  private ticking = false;

  at(at: number, fire: () => void): DueSample {
    const due = { at, cancelled: false, fire };
    this.push(due);
    if (!this.ticking && at < this.timerAt) this.arm();
    return due;
  }

  /** Cancelled entries stay in the heap until their time: cheaper than finding them. */
  cancel(due: DueSample | undefined): void {
    if (due) due.cancelled = true;
  }

  private arm(): void {
    clearTimeout(this.timer);
    const next = this.heap[0];
    if (!next) {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    this.timerAt = next.at;
    this.timer = setTimeout(this.tick, Math.max(0, next.at - performance.now()));
  }

  private readonly tick = () => {
    this.timerAt = Number.POSITIVE_INFINITY;
    this.ticking = true;
    try {
      // What is due now, taken out before any of it fires: a sampler behind its schedule then
      // catches up one sample per turn, with I/O (heartbeats, responses) in between, not all its
      // missed samples in one long synchronous burst that would put it further behind.
      const now = performance.now();
      const due: DueSample[] = [];
      while (this.heap[0] && (this.heap[0] as DueSample).at <= now + SAME_TURN_MS) due.push(this.pop());
      for (const sample of due) if (!sample.cancelled) sample.fire();
    } finally {
      this.ticking = false;
      this.arm();
    }
  };

  private push(due: DueSample): void {
    const heap = this.heap;
    heap.push(due);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as DueSample).at <= due.at) break;
      heap[i] = heap[parent] as DueSample;
      i = parent;
    }
    heap[i] = due;
  }

  private pop(): DueSample {
    const heap = this.heap;
    const top = heap[0] as DueSample;
    const last = heap.pop() as DueSample;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child =
        right < heap.length && (heap[right] as DueSample).at < (heap[left] as DueSample).at ? right : left;
      if ((heap[child] as DueSample).at >= last.at) break;
      heap[i] = heap[child] as DueSample;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

/** The worker's clock: every sampler in this process shares it. */
export const sampleClock = new SampleClock();
