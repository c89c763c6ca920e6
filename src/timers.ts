/**
 * Timers that are safe for every duration tend can be given.
 *
 * Node keeps a timer's delay in a signed 32-bit count of milliseconds: a delay above 2^31-1 ms (about 24.8 days)
 * is replaced by 1 ms, with nothing but a TimeoutOverflowWarning. A `repair.taskTimeout` of 30d would then kill
 * the repair at once, a `lease.ttl` of 30d would make the heartbeat declare the lease lost at once, and a
 * `cassandra.requestTimeout` of 30d would time out every request at once. `config check` refuses such values
 * too, but a timer must be right on its own: every timer in src/ goes through this module (a unit test checks).
 *
 * - `setLongTimeout` chains timers of at most MAX_TIMER_MS, so any delay (even Infinity: never) is honoured.
 * - `timeoutSignal` is AbortSignal.timeout for any delay.
 * - `timerDelay` clamps a delay handed to someone else's timer (the Cassandra driver, a socket timeout): those
 *   cannot be chained, and 24.8 days is as good as forever for a single request.
 */

/** The longest delay a Node timer honours: 2^31-1 ms, about 24.8 days. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` as a delay any Node timer honours: negative or NaN → 0, above MAX_TIMER_MS (or Infinity) → MAX_TIMER_MS. */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(Math.ceil(ms), MAX_TIMER_MS);
}

export interface LongTimer {
  /** Cancels the timer; calling it again, or after it fired, does nothing. */
  clear(): void;
}

/**
 * Calls `callback` once after `ms` milliseconds, however long that is. With `unref`, the timer never keeps the
 * process alive on its own (like `timeout.unref()`).
 */
export function setLongTimeout(callback: () => void, ms: number, options: { unref?: boolean } = {}): LongTimer {
  let handle: NodeJS.Timeout | undefined;
  let cleared = false;
  const deadline = Number.isFinite(ms) ? Date.now() + Math.max(0, ms) : Infinity;
  const arm = (remaining: number) => {
    handle = setTimeout(() => {
      handle = undefined;
      if (cleared) return;
      const left = deadline - Date.now();
      // A chained step ends early only when more than one step is left; the last one fires the callback.
      if (left > 0 && remaining > MAX_TIMER_MS) arm(left);
      else callback();
    }, timerDelay(remaining));
    if (options.unref) handle.unref();
  };
  arm(Number.isFinite(ms) ? Math.max(0, ms) : Infinity);
  return {
    clear() {
      cleared = true;
      if (handle) clearTimeout(handle);
      handle = undefined;
    },
  };
}

/** Like AbortSignal.timeout(ms) (aborts with a TimeoutError DOMException), for any delay; never keeps the process alive. */
export function timeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  setLongTimeout(
    () => controller.abort(new DOMException(`The operation timed out after ${ms} ms.`, 'TimeoutError')),
    ms,
    { unref: true },
  );
  return controller.signal;
}

/**
 * Resolves after `ms`, or at once when `signal` aborts (it never rejects: callers look at the signal). The timer
 * keeps the process alive, as a pending wait should.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      timer.clear();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setLongTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
