/**
 * What the process is waiting for right now: each outside call (a Cassandra request, a Consul or Jolokia request,
 * a nodetool process, a lease wait, a repair task) registers itself while it runs. Nothing decides on this; it is
 * what the last-resort watchdog (src/cli/watchdog.ts) names when a command outlives its bound, so the operator
 * reads "waiting for: Jolokia repairAsync at http://…/jolokia/ (2h3m)" instead of a bare timeout.
 *
 * Kept under a global symbol: under mocha, tsx may load a module twice (see errors.ts), and every copy must
 * register in the same place.
 */

export interface Activity {
  readonly label: string;
  readonly since: number;
}

const ACTIVE = Symbol.for('tend.activity.active');
type Holder = { [ACTIVE]?: Set<Activity> };

function active(): Set<Activity> {
  const holder = globalThis as Holder;
  holder[ACTIVE] ??= new Set<Activity>();
  return holder[ACTIVE];
}

/** Notes that `label` is under way; call the returned function when it is over (calling it twice is harmless). */
export function beginActivity(label: string): () => void {
  const activity: Activity = { label, since: Date.now() };
  active().add(activity);
  return () => {
    active().delete(activity);
  };
}

/** Runs `work` as the activity `label`. */
export async function during<T>(label: string, work: () => Promise<T>): Promise<T> {
  const end = beginActivity(label);
  try {
    return await work();
  } finally {
    end();
  }
}

/** What is under way, oldest first. */
export function currentActivities(): Activity[] {
  return [...active()].sort((a, b) => a.since - b.since);
}

/** Forget everything (main() starts each invocation clean). */
export function resetActivities(): void {
  active().clear();
}
