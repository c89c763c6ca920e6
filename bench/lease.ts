// bench/lease: median acquire / renew / release latency of each lease backend on the sandbox.
//
//   npx tsx bench/lease.ts [--rounds 200]
//   npm run bench:lease            (needs the sandbox: npm run sandbox -- up)
//
// One process, one contender, sequential calls: the latency of one lease operation as a tick sees it, not
// throughput under contention (test/integration/lease-race.test.ts covers 20 contenders). Each round takes a
// fresh resource (acquire = INSERT IF NOT EXISTS / session create + KV acquire), renews it once, releases it.
// Cassandra is measured in both scopes: node (SERIAL across both DCs: Paxos round trips reach dc2) and
// datacenter (LOCAL_SERIAL in dc1). The client talks to node1 (dc1). Consul is the sandbox's single dev agent,
// so its figures are a lower bound for a real cluster (no Raft replication between servers).
import { performance } from 'node:perf_hooks';
import type { LeaseBackend } from '../src/lease/types.js';
import { cassandraBackend, consulBackend, ensureLeaseKeyspace, leaseClient } from '../test/support/lease-sandbox.js';
import { benchArgs } from './args.js';

const { rounds: ROUNDS } = benchArgs({ rounds: 200 });
const WARMUP = 10;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]!;
}

async function measure(name: string, backend: LeaseBackend): Promise<void> {
  const timings = { acquire: [] as number[], renew: [] as number[], release: [] as number[] };
  const run = `bench/${Date.now().toString(36)}`;
  for (let round = 0; round < ROUNDS + WARMUP; round += 1) {
    const holder = { name: 'bench', host: 'bench' };
    let t = performance.now();
    const result = await backend.tryAcquire(`${run}/${round}`, holder, 30_000);
    const acquireMs = performance.now() - t;
    if (!result.acquired) throw new Error(`${name}: round ${round} did not acquire`);
    t = performance.now();
    const renewed = await backend.renew(result.lease);
    const renewMs = performance.now() - t;
    if (!renewed.renewed) throw new Error(`${name}: round ${round} did not renew`);
    t = performance.now();
    if (!(await backend.release(result.lease))) throw new Error(`${name}: round ${round} did not release`);
    const releaseMs = performance.now() - t;
    if (round >= WARMUP) {
      timings.acquire.push(acquireMs);
      timings.renew.push(renewMs);
      timings.release.push(releaseMs);
    }
  }
  const cell = (values: number[]) =>
    `${percentile(values, 0.5).toFixed(1).padStart(6)} ms (p90 ${percentile(values, 0.9).toFixed(1)})`;
  console.log(
    `  ${name.padEnd(34)} acquire ${cell(timings.acquire)}   renew ${cell(timings.renew)}   release ${cell(timings.release)}`,
  );
}

async function main(): Promise<void> {
  console.log(`tend bench/lease — median latency over ${ROUNDS} rounds (after ${WARMUP} warm-up), one contender`);
  await ensureLeaseKeyspace();
  const client = leaseClient(1);
  await client.connect();
  try {
    await measure('cassandra, node scope (SERIAL)', cassandraBackend(client, 'node'));
    await measure('cassandra, dc scope (LOCAL_SERIAL)', cassandraBackend(client, 'datacenter'));
  } finally {
    await client.shutdown();
  }
  const consul = consulBackend(`tend-bench-${Date.now().toString(36)}`);
  await measure('consul (session + KV)', consul);
  await consul.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
