/**
 * One contender in the lease tests, as a separate OS process (node --import tsx lease-race-child.ts MODE …).
 * Prints JSON lines on stdout; every time is Date.now() on this host, the clock all contenders share.
 *
 *   race BACKEND RESOURCE ROUNDS ROUND_MS HOLD_MS TTL_MS NODE ID PREFIX [retry|once]
 *     prints {"ready":true}, reads the common start time T0 from stdin, then in round r (from T0 + r*ROUND_MS)
 *     keeps trying until 60% of the round is over (once: a single attempt at the round's start); on success
 *     holds HOLD_MS under withLeases and prints {"round":r,"start":…,"end":…} (start after acquiring, end
 *     before releasing) and {"round":r,"released":…} once the release returned; every round ends with
 *     {"round":r,"tries":n,"firstTry":t|null} (null: woke after the round's give-up time).
 *   hold BACKEND RESOURCE TTL_MS RENEW_MS NODE ID PREFIX
 *     takes the lease (retrying), prints {"acquired":t}, then {"renewed":sentAt} per renewal until killed;
 *     on SIGTERM releases in finally and prints {"released":t}.
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { withLeases } from '../../src/lease/leases.js';
import type { LeaseBackend, HeldLease } from '../../src/lease/types.js';
import { cassandraBackend, consulBackend, leaseClient } from './lease-sandbox.js';

const [mode, kind, resource, ...rest] = process.argv.slice(2);

function emit(value: object): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function open(node: number, prefix: string): Promise<{ backend: LeaseBackend; close(): Promise<void> }> {
  if (kind === 'consul') return { backend: consulBackend(prefix), close: async () => undefined };
  const client = leaseClient(node);
  await client.connect();
  return { backend: cassandraBackend(client, 'node'), close: () => client.shutdown() };
}

async function readStartTime(): Promise<number> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return Number(line);
  }
  throw new Error('no start time on stdin');
}

async function race(): Promise<void> {
  const [rounds, roundMs, holdMs, ttlMs, node, id, prefix, attempts] = rest;
  const retry = attempts !== 'once';
  const { backend, close } = await open(Number(node), prefix!);
  const holder = { name: `contender-${id}`, host: `pid-${process.pid}` };
  // Ready means warmed up: statements prepared and the LWT path exercised on a resource of our own, so the first
  // rounds measure contention between 20 processes, not 20 cold clients preparing at once on a cold cluster.
  for (let warmup = 0; warmup < 3; warmup += 1) {
    const result = await backend.tryAcquire(`${resource}-warmup-${id}`, holder, Number(ttlMs));
    if (result.acquired) await backend.release(result.lease);
  }
  emit({ ready: true });
  const t0 = await readStartTime();
  let errors = 0;
  for (let round = 0; round < Number(rounds); round += 1) {
    const roundStart = t0 + round * Number(roundMs);
    const giveUpAt = roundStart + Number(roundMs) * 0.6;
    if (Date.now() < roundStart) await sleep(roundStart - Date.now());
    let tries = 0;
    const firstTry = Date.now() < giveUpAt ? Date.now() : null;
    for (; Date.now() < giveUpAt && (retry || tries === 0); tries += 1) {
      let lease: HeldLease | undefined;
      try {
        const result = await backend.tryAcquire(resource!, holder, Number(ttlMs));
        if (result.acquired) lease = result.lease;
      } catch (error) {
        errors += 1;
        emit({ round, error: String(error) });
      }
      if (lease) {
        // Renew often: on Consul the holder counts on only half the ttl (see consul.ts).
        const options = {
          renewEveryMs: Number(ttlMs) / 5,
          // A release that fails leaves the lease to its TTL: the next rounds would have no winner. Say so.
          onReleaseError: (_lease: HeldLease, error: unknown) => emit({ round, error: `release: ${String(error)}` }),
        };
        await withLeases(backend, [lease], options, async () => {
          const start = Date.now();
          await sleep(Number(holdMs));
          emit({ round, start, end: Date.now() });
        }).catch((error: unknown) => {
          // A lost signal here means the process stalled (2 CPUs, 20 processes); the hold is still checked.
          errors += 1;
          emit({ round, error: String(error) });
        });
        // When the release returned: the lease was not free for the others before this.
        emit({ round, released: Date.now() });
        tries += 1;
        break;
      }
      // Jittered back-off, as any LWT client should: equal short pauses keep 20 proposers colliding.
      await sleep(10 + Math.random() * 50);
    }
    emit({ round, tries, firstTry });
  }
  emit({ done: true, errors });
  await close();
}

async function hold(): Promise<void> {
  const [ttlMs, renewMs, node, id, prefix] = rest;
  const { backend, close } = await open(Number(node), prefix!);
  const holder = { name: `holder-${id}`, host: `pid-${process.pid}` };
  let lease: HeldLease | undefined;
  while (!lease) {
    const result = await backend.tryAcquire(resource!, holder, Number(ttlMs));
    if (result.acquired) lease = result.lease;
    else await sleep(50);
  }
  emit({ acquired: Date.now() });
  // Diagnostics for a failed run (stderr is in the test's error): when the signal came, what release did.
  process.on('SIGTERM', () => process.stderr.write(`SIGTERM at ${Date.now()}\n`));
  try {
    await withLeases(
      backend,
      [lease],
      {
        renewEveryMs: Number(renewMs),
        handleSignals: true,
        onRenewed: (_lease, sentAt) => emit({ renewed: sentAt }),
        onRenewError: (_lease, error) => process.stderr.write(`renew failed at ${Date.now()}: ${String(error)}\n`),
        onReleaseError: (_lease, error) => process.stderr.write(`release failed at ${Date.now()}: ${String(error)}\n`),
      },
      (signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
    );
  } catch (error) {
    // Interrupted or lost: the lease was released (or expires) either way.
    process.stderr.write(`work ended at ${Date.now()}: ${String(error)}\n`);
  }
  emit({ released: Date.now() });
  await close();
}

(mode === 'race' ? race() : hold()).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
    process.exit(1);
  },
);
