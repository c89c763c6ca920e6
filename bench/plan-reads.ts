// bench/plan-reads: how many Cassandra rows gathering a plan reads, on the real sandbox, before and after the
// external history has been folded into tend's repair_state.
//
//   npx tsx bench/plan-reads.ts [--tables 20] [--history 5000]
//
// Creates keyspace bench_plan_reads (NTS dc1:2, dc2:1) with N tables and tend's tables in keyspace
// tend_bench_reads, writes H synthetic system_distributed.repair_history rows (two days old, vnode ranges spread
// over the tables: what weeks of `nodetool repair -st -et` leave behind), then gathers the plan input for node1
// three times: cold (no repair_state yet), folding (persistHistory, what the tick does), warm (the next plan).
// Prints rows read per source. Needs the sandbox (`npm run sandbox -- up`); cleans its synthetic history up.
import cassandra from 'cassandra-driver';
import { gatherPlanInput } from '../src/app/plan-input.js';
import { applySchema } from '../src/cluster/tend-schema.js';
import { sandboxTendConfig, openTestSession } from '../test/support/sandbox-config.js';
import { NODES } from '../test/sandbox/src/layout.js';
import { benchArgs } from './args.js';

const { tables: N, history: H } = benchArgs({ tables: 20, history: 5000 });
const KS = 'bench_plan_reads';
const TEND_KS = 'tend_bench_reads';

const config = sandboxTendConfig(1, {}, (raw) => {
  raw.cassandra.keyspace = TEND_KS;
});
const client = await openTestSession(config);
try {
  await applySchema(client, TEND_KS, { class: 'NetworkTopologyStrategy', dc1: 2, dc2: 1 });
  await client.execute(`TRUNCATE ${TEND_KS}.repair_state`);
  await client.execute(
    `CREATE KEYSPACE IF NOT EXISTS ${KS} WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}`,
  );
  const tables = Array.from({ length: N }, (_, i) => `t${String(i).padStart(4, '0')}`);
  for (const table of tables) await client.execute(`CREATE TABLE IF NOT EXISTS ${KS}.${table} (id int PRIMARY KEY)`);
  const clean = async () => {
    for (const table of tables) {
      await client.execute(
        'DELETE FROM system_distributed.repair_history WHERE keyspace_name = ? AND columnfamily_name = ?',
        [KS, table],
        { prepare: true },
      );
    }
  };
  await clean();

  const probe = await gatherPlanInput(client, config, { scope: KS, readSizes: false });
  const ring = probe.input.ring!;
  const base = Date.now() - 2 * 86_400_000;
  const insert = `INSERT INTO system_distributed.repair_history (keyspace_name, columnfamily_name, id, range_begin, range_end, status, started_at, finished_at, coordinator) VALUES (?, ?, ?, ?, ?, 'SUCCESS', ?, ?, '${NODES[0]!.address}')`;
  for (let from = 0; from < H; from += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, H - from) }, (_, k) => {
        const i = from + k;
        const at = new Date(base + i * 100);
        const range = i % ring.ranges.length;
        return client.execute(
          insert,
          [
            KS,
            tables[i % N],
            cassandra.types.TimeUuid.fromDate(at),
            ring.startTexts[range],
            ring.endTexts[range],
            at,
            at,
          ],
          { prepare: true },
        );
      }),
    );
  }

  const show = (label: string, rows: Awaited<ReturnType<typeof gatherPlanInput>>['rowsRead'], ms: number) =>
    console.log(
      `${label.padEnd(8)} total ${String(rows.total).padStart(6)}  repair_state ${String(rows.state).padStart(5)}  sessions ${String(rows.sessions).padStart(6)}  parents ${String(rows.parents).padStart(4)}  topology ${rows.topology}  estimates ${rows.estimates}  policies ${rows.policies}  (${ms} ms)`,
    );
  console.log(`${N} tables × ${ring.ranges.length} vnodes (node1 replicates all of them), ${H} history rows`);
  for (const [label, persist] of [
    ['cold', false],
    ['folding', true],
    ['warm', false],
  ] as const) {
    const started = Date.now();
    const context = await gatherPlanInput(client, config, { scope: KS, persistHistory: persist });
    show(label, context.rowsRead, Date.now() - started);
  }
  await clean();
} finally {
  await client.shutdown();
}
