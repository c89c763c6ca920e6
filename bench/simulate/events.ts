// A discrete-event clock for the simulated cluster: events run in time order (ties in the order they were
// scheduled), and simulated time only moves from one event to the next, so a week of timers, leases and repairs
// runs in seconds and the same seed gives the same run.
//
// The simulated code is ordinary async code (the real lease functions await the memory backend). An event that
// resumes such code (a `sleep` ending, a tick starting) is followed by a turn of Node's event loop, which runs
// every promise continuation the event released before the next event is taken: all of them happen at the same
// simulated instant, as a backend call without latency would.

export interface Scheduled {
  /** Simulated epoch ms when the event runs. */
  readonly at: number;
  cancelled: boolean;
}

interface Entry extends Scheduled {
  readonly seq: number;
  readonly run: () => void;
  /** The event may resume async code: let its continuations run before the next event. */
  readonly resumes: boolean;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class SimulatedClock {
  private heap: Entry[] = [];
  private seq = 0;
  private current: number;
  /** Events run so far (a figure for the bench's own cost). */
  events = 0;

  constructor(start: number) {
    this.current = start;
  }

  /** The simulated time, epoch ms: what every simulated component reads instead of Date.now(). */
  readonly now = (): number => this.current;

  /** Runs `run` at `at` (not before now). */
  at(at: number, run: () => void, resumes = false): Scheduled {
    const entry: Entry = { at: Math.max(at, this.current), seq: this.seq++, run, resumes, cancelled: false };
    this.push(entry);
    return entry;
  }

  /** Resolves after `ms` of simulated time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.at(this.current + Math.max(0, ms), resolve, true);
    });
  }

  /** Starts async work at `at`; its continuations run at that instant. */
  start(at: number, work: () => Promise<void>, onError: (error: unknown) => void): Scheduled {
    return this.at(
      at,
      () => {
        work().catch(onError);
      },
      true,
    );
  }

  /** Runs events until none is left, `stop()` says so, or the next one lies after `until`. */
  async run(until: number, stop: () => boolean = () => false): Promise<void> {
    while (this.heap.length > 0 && !stop()) {
      const next = this.heap[0]!;
      if (next.at > until) break;
      this.pop();
      if (next.cancelled) continue;
      this.current = next.at;
      this.events++;
      next.run();
      if (next.resumes) await settle();
    }
    if (!stop() && this.current < until && Number.isFinite(until)) this.current = until;
  }

  private static before(a: Entry, b: Entry): boolean {
    return a.at !== b.at ? a.at < b.at : a.seq < b.seq;
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!SimulatedClock.before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && SimulatedClock.before(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && SimulatedClock.before(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === i) break;
      [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
      i = smallest;
    }
  }
}
