/**
 * The last resort that keeps a tend process within its bound (DESIGN.md, "Bounded processes"). A tick that never
 * exits blocks every later tick on its node, silently, forever; every outside call has its own timeout, and this
 * catches whatever slips past them.
 *
 * - `Watchdog`: armed by main() with the command's bound (src/app/time-bound.ts), measured from the start of the
 *   process. When it fires it logs the bound and what the command was waiting for (src/activity.ts), and stops the
 *   command as SIGTERM would (its repair cancelled on the node, its lease released); the command then ends with
 *   TimeBoundExceeded (exit 8). If even that cleanup does not end within its grace, the process exits 8.
 * - `guardExit`: after main() has returned, nothing should keep the process alive. If something does (a socket a
 *   library left open), the process exits a few seconds later with the command's code and says what it was.
 *
 * Both use unref'd timers: they never keep a process alive that would otherwise exit.
 */
import { currentActivities, type Activity } from '../activity.js';
import { formatDuration } from '../config/units.js';
import { ExitCode, TimeBoundExceeded } from '../errors.js';
import type { Output } from '../output/output.js';
import type { TimeBound } from '../app/time-bound.js';
import { setLongTimeout, type LongTimer } from '../timers.js';

/** "Jolokia repairAsync at http://…/ (2h3m), nodetool repair (pid 12, 2h3m)", or what keeps the event loop busy. */
export function describeWaiting(activities: readonly Activity[], now: number): string {
  if (activities.length > 0) {
    return activities
      .map(
        (activity) =>
          `${activity.label} (${formatDuration(Math.max(0, Math.round((now - activity.since) / 1000)) * 1000)})`,
      )
      .join(', ');
  }
  const resources = process
    .getActiveResourcesInfo()
    .filter((resource) => resource !== 'Timeout' && resource !== 'TTYWrap');
  return resources.length > 0 ? `nothing tend started (open: ${resources.join(', ')})` : 'nothing tend started';
}

export interface WatchdogOptions {
  /** `tend schedule tick`, for the message. */
  readonly command: string;
  /** Epoch ms the bound is measured from: the start of the process. */
  readonly startedAt: number;
  /** The command's cancellation: aborted with TimeBoundExceeded when the bound is reached. */
  readonly controller: AbortController;
  /** Where to log (the output changes once the configuration sets log.format). */
  readonly out: () => Output;
  /** After the abort, how long the command may take to clean up before `exit`. */
  readonly cleanupGraceMs: number;
  /** Ends the process (process.exit in the real process); without it only the abort happens (tests). */
  readonly exit?: (code: number) => void;
  readonly now?: () => number;
}

export class Watchdog {
  private timer: LongTimer | undefined;
  private hardExit: LongTimer | undefined;
  private bound: TimeBound | undefined;
  private readonly now: () => number;

  constructor(private readonly options: WatchdogOptions) {
    this.now = options.now ?? Date.now;
  }

  /** (Re-)arms at `bound` from the start of the process; replaces a bound armed before. */
  arm(bound: TimeBound): void {
    this.timer?.clear();
    this.bound = bound;
    const delay = this.options.startedAt + bound.ms - this.now();
    this.timer = setLongTimeout(() => this.fire(), Math.max(0, delay), { unref: true });
  }

  disarm(): void {
    this.timer?.clear();
    this.hardExit?.clear();
    this.timer = undefined;
    this.hardExit = undefined;
  }

  private fire(): void {
    const bound = this.bound;
    if (!bound || this.options.controller.signal.aborted) return;
    const waiting = describeWaiting(currentActivities(), this.now());
    const message = `${this.options.command} did not finish within its bound of ${formatDuration(bound.ms)} (${bound.explanation}); stopped by the watchdog`;
    this.options.out().error(message, { waiting_for: waiting });
    this.options.out().detail('error', `waiting for: ${waiting}`);
    this.options.controller.abort(
      new TimeBoundExceeded(message, {
        hints: [
          `it was waiting for: ${waiting}`,
          'every outside call has its own timeout; this one did not end: check the system named above',
        ],
      }),
    );
    const exit = this.options.exit;
    if (exit) {
      this.hardExit = setLongTimeout(
        () => {
          this.options
            .out()
            .error(
              `${this.options.command} did not stop within ${formatDuration(this.options.cleanupGraceMs)} of the watchdog; exiting`,
            );
          exit(ExitCode.TimeBoundExceeded);
        },
        this.options.cleanupGraceMs,
        { unref: true },
      );
    }
  }
}

/** How long a finished command may take to let go of the event loop before `guardExit` steps in. */
export const EXIT_GRACE_MS = 5000;

/**
 * After the command has finished with `code`: if anything still keeps the process alive EXIT_GRACE_MS later,
 * say what and exit with `code`. The timer is unref'd, so a clean process exits at once as usual.
 */
export function guardExit(
  code: number,
  out: Output,
  exit: (code: number) => void,
  graceMs: number = EXIT_GRACE_MS,
): LongTimer {
  return setLongTimeout(
    () => {
      out.warn(`finished, but ${describeWaiting(currentActivities(), Date.now())} kept the process alive; exiting`, {
        exit: code,
      });
      exit(code);
    },
    graceMs,
    { unref: true },
  );
}
