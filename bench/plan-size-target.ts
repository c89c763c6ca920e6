// bench/plan-size-target: what repair.sizeTarget costs the planner, for one large subrange table.
//
//   npx tsx bench/plan-size-target.ts [--gib 10] [--vnodes 16]
//
// One table of --gib GiB on the local node (3 nodes × --vnodes vnodes, RF 3: the node replicates the whole ring),
// planned with targets from the default 200MiB down to 1B, each in its own process so its peak RSS is its own.
// Prints sub-ranges planned, time and peak RSS, with ratios to the default target measured in the same run.
// Issue 12, item 4: before MAX_SUBRANGES_PER_TABLE, 1B ran out of memory and 4KiB planned 2.6 million ranges.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { plan, type PlanInput } from '../src/core/index.js';
import { syntheticNodes } from '../test/unit/core/synthetic.js';
import { benchArgs } from './args.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 21, 12);
const TARGETS = [209_715_200, 1_048_576, 65_536, 4096, 1];

interface Figures {
  target: number;
  ranges: number;
  ms: number;
  rssMiB: number;
}

function measure(totalBytes: number, target: number, vnodes: number): Figures {
  const nodes = syntheticNodes([{ name: 'dc1', nodes: 3 }], vnodes, 1);
  const input: PlanInput = {
    now: NOW,
    localHostId: nodes[0]!.hostId,
    tables: [
      {
        keyspace: 'ks',
        table: 't',
        enabled: true,
        intervalMs: 7 * DAY,
        warnMs: 8 * DAY,
        errorMs: 10 * DAY,
        weight: 1,
        repairType: 'subrange',
        parallelism: 'parallel',
        sizeTargetBytes: target,
      },
    ],
    topology: { nodes, keyspaces: { ks: { class: 'NetworkTopologyStrategy', datacenters: { dc1: 3 } } } },
    history: {},
    sizes: { 'ks.t': { totalBytes } },
    limits: { maxTasks: 10 },
  };
  const started = performance.now();
  const result = plan(input);
  const ms = performance.now() - started;
  const ranges = result.tasks.reduce((sum, task) => sum + task.ranges.length, 0);
  return { target, ranges, ms, rssMiB: process.resourceUsage().maxRSS / 1024 };
}

// --child TARGET is how the bench measures one size target in a fresh process.
const { gib, vnodes, child } = benchArgs({ gib: 10, vnodes: 16 }, { child: undefined as string | undefined });
if (child !== undefined) {
  const target = Number(child);
  process.stdout.write(JSON.stringify(measure(gib * 1024 ** 3, target, vnodes)));
} else {
  const rows: Figures[] = [];
  for (const target of TARGETS) {
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--child',
        String(target),
        '--gib',
        String(gib),
        '--vnodes',
        String(vnodes),
      ],
      { encoding: 'utf8', timeout: 300_000 },
    );
    if (child.status !== 0) {
      console.log(`target ${target} B: failed (${child.signal ?? `exit ${child.status}`}) ${child.stderr.slice(-200)}`);
      continue;
    }
    rows.push(JSON.parse(child.stdout) as Figures);
  }
  const base = rows[0];
  console.log(`one table of ${gib} GiB, 3 nodes × ${vnodes} vnodes, RF 3 (ratios to the 200MiB default)`);
  for (const row of rows) {
    const ratio = (value: number, of: number) => (base ? ` (×${(value / of).toFixed(1)})` : '');
    console.log(
      `target ${String(row.target).padStart(10)} B: ${String(row.ranges).padStart(8)} ranges, ` +
        `${row.ms.toFixed(0).padStart(6)} ms${ratio(row.ms, base?.ms ?? 1)}, ` +
        `peak RSS ${row.rssMiB.toFixed(0)} MiB${ratio(row.rssMiB, base?.rssMiB ?? 1)}`,
    );
  }
}
