/**
 * The heartbeat: renews held leases every `renewEvery` and fires `signal` ("lost") when the work must stop.
 *
 * It fires when a renewal is refused (the lease expired, was deleted or broken, or has another holder), and when
 * renewals keep failing (Cassandra or Consul unreachable) until the next attempt could come too late: from then
 * on the lease may expire and another node may start. As in `consul lock`, the lost signal comes a renew
 * interval before that moment, so the work has a grace period to stop (cancel the repair on the server,
 * record it as aborted) while the lease is still ours.
 */
import { LeaseLost } from '../errors.js';
import type { HeldLease, LeaseBackend } from './types.js';
import { setLongTimeout, type LongTimer } from '../timers.js';

export interface HeartbeatOptions {
  renewEveryMs: number;
  /** Told about each failed renewal that did not (yet) lose the lease. */
  onRenewError?: (lease: HeldLease, error: unknown) => void;
  /** Told about each successful renewal (with the time the renewal was sent). */
  onRenewed?: (lease: HeldLease, sentAt: number) => void;
  now?: () => number;
}

export class Heartbeat {
  private readonly controller = new AbortController();
  private timer: LongTimer | undefined;
  private readonly watchdogs = new Map<string, LongTimer>();
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly backend: LeaseBackend,
    private readonly leases: HeldLease[],
    private readonly options: HeartbeatOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Aborted with a LeaseLost when any lease is (or may be) lost. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  start(): this {
    for (const lease of this.leases) this.armWatchdog(lease);
    this.schedule();
    return this;
  }

  /** Stops renewing; waits for a renewal in flight so that release does not race it. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.clear();
    for (const watchdog of this.watchdogs.values()) watchdog.clear();
    this.watchdogs.clear();
    await this.running;
  }

  private lose(lease: HeldLease, why: string, cause?: unknown): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(
      new LeaseLost(lease.resource, {
        ...(cause === undefined ? {} : { cause }),
        hints: [why],
      }),
    );
  }

  /** Last line of defence: fires a renew interval before expiry even if a renewal hangs. */
  private armWatchdog(lease: HeldLease): void {
    const previous = this.watchdogs.get(lease.resource);
    previous?.clear();
    // A renew interval of grace, but never so much that the watchdog would fire before the next renewal is due
    // (on Consul the holder counts on only half the ttl, see consul.ts).
    const known = lease.expiresAt.getTime() - this.now();
    const grace = Math.min(this.options.renewEveryMs, Math.max(0, known - this.options.renewEveryMs) / 2);
    const delay = Math.max(0, lease.expiresAt.getTime() - grace - this.now());
    // A long timer: a lease.ttl above 24.8 days would otherwise overflow Node's timer and fire at once.
    const watchdog = setLongTimeout(
      () => this.lose(lease, 'renewals did not succeed in time; the lease may expire'),
      delay,
      { unref: true },
    );
    this.watchdogs.set(lease.resource, watchdog);
  }

  private schedule(): void {
    if (this.stopped || this.controller.signal.aborted) return;
    this.timer = setLongTimeout(() => {
      this.running = this.renewAll().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.options.renewEveryMs);
  }

  private async renewAll(): Promise<void> {
    await Promise.all(this.leases.map((lease) => this.renewOne(lease)));
  }

  private async renewOne(lease: HeldLease): Promise<void> {
    if (this.stopped || this.controller.signal.aborted) return;
    const sentAt = this.now();
    try {
      const result = await this.backend.renew(lease);
      if (this.stopped) return;
      if (result.renewed) {
        lease.expiresAt = result.expiresAt;
        this.armWatchdog(lease);
        this.options.onRenewed?.(lease, sentAt);
        return;
      }
      const by = result.heldBy ? ` (now held by ${result.heldBy.holder} on ${result.heldBy.holderHost})` : '';
      this.lose(lease, result.reason === 'taken' ? `renewal refused: another holder${by}` : 'the lease is gone');
    } catch (error) {
      if (this.stopped) return;
      this.options.onRenewError?.(lease, error);
      if (this.now() + this.options.renewEveryMs >= lease.expiresAt.getTime()) {
        this.lose(lease, 'renewals kept failing until the lease may expire', error);
      }
    }
  }
}
