/**
 * `npm run demo`: tend doing its job on the sandbox, start to finish, in a screenful.
 *
 * 1. Starts the sandbox (the one TEND_SANDBOX_* select) and creates two small demo keyspaces: demo_shop
 *    (dc1: 2, dc2: 1) with three tables, one of them mixed-case ("CartItems"), and demo_metrics, replicated to dc1
 *    only. Rows go in on every run.
 * 2. Applies tend's schema and runs the three nodes' ticks in turn, as their timers would, until a round where no
 *    node has anything due. The configurations are the sandbox's own, scoped to the demo keyspaces.
 * 3. Ends with `tend schedule status` and what to try next. A second run says what changed since the last one.
 *
 * It drives only the built bin/tend (npm run build first) and the sandbox: nothing in src/ is imported.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { NODES, SANDBOX_SOURCE_DIR, SECURE, paths, type SandboxNode } from './layout.js';
import { singleNodeClient, up } from './sandbox.js';
import { tendConfig } from './tend-config.js';

const BIN = resolve(SANDBOX_SOURCE_DIR, '..', '..', 'bin', 'tend');
const MAX_ROUNDS = 8;
const KEYSPACES: { name: string; replication: Record<string, number>; tables: Record<string, number> }[] = [
  { name: 'demo_shop', replication: { dc1: 2, dc2: 1 }, tables: { orders: 40, customers: 25, CartItems: 15 } },
  { name: 'demo_metrics', replication: { dc1: 2 }, tables: { readings: 60 } },
];

const say = (line = '') => process.stdout.write(`${line}\n`);
const dir = () => join(paths.state(), 'demo');
const configPath = (node: SandboxNode) => join(dir(), `tend-${node.name}.yml`);
const lastRunPath = () => join(dir(), 'last-run.json');
const quote = (name: string) => (name === name.toLowerCase() ? name : `"${name}"`);

interface TableState {
  table: string;
  lastRepairedAt: number | null;
}
interface LastRun {
  at: number;
  rows: number;
  tables: TableState[];
}

/** Each node's sandbox configuration, with repair limited to the demo keyspaces (first match wins). */
function writeConfigs(): void {
  mkdirSync(dir(), { recursive: true });
  const names = KEYSPACES.map((k) => k.name).join('|');
  for (const node of NODES) {
    // Jolokia: one repairAsync per task. nodetool would start a JVM per vnode range (48 per table here).
    const base = tendConfig(node, { executor: 'jolokia' });
    const config = {
      ...base,
      repair: { ...base.repair, tables: [{ match: `/^(${names})\\./` }, { match: '/.*/', enabled: false }] },
      schedule: { ...base.schedule, maxTasks: 10 },
      log: { level: 'warn', format: 'auto' },
    };
    mkdirSync(config.metrics.textfileDirectory, { recursive: true });
    writeFileSync(configPath(node), `# Written by npm run demo for ${node.name}.\n${stringify(config)}`);
  }
}

async function createKeyspaces(): Promise<{ created: string[]; rows: number }> {
  const client = singleNodeClient(NODES[0]!);
  const created: string[] = [];
  let rows = 0;
  try {
    await client.connect();
    for (const keyspace of KEYSPACES) {
      const exists = await client.execute('SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?', [
        keyspace.name,
      ]);
      if (exists.rowLength === 0) created.push(keyspace.name);
      const dcs = Object.entries(keyspace.replication)
        .map(([dc, rf]) => `'${dc}': ${rf}`)
        .join(', ');
      await client.execute(
        `CREATE KEYSPACE IF NOT EXISTS ${keyspace.name} WITH replication = {'class': 'NetworkTopologyStrategy', ${dcs}}`,
      );
      for (const [table, count] of Object.entries(keyspace.tables)) {
        const name = `${keyspace.name}.${quote(table)}`;
        await client.execute(`CREATE TABLE IF NOT EXISTS ${name} (id uuid PRIMARY KEY, note text, at timestamp)`);
        for (let i = 0; i < count; i++) {
          await client.execute(
            `INSERT INTO ${name} (id, note, at) VALUES (uuid(), ?, toTimestamp(now()))`,
            [`${table} row ${i}`],
            { prepare: true },
          );
        }
        rows += count;
      }
    }
  } finally {
    await client.shutdown();
  }
  return { created, rows };
}

async function tend(node: SandboxNode, args: string[]) {
  return execa('node', [BIN, '-c', configPath(node), ...args], { reject: false, timeout: 10 * 60_000 });
}

interface TickReport {
  result: string;
  summary: string;
  tasks: { keyspace: string; tables: string[]; status: string }[];
}

async function tickUntilNothingDue(): Promise<{ ticks: number; tasks: number; failed: number }> {
  let ticks = 0;
  let tasks = 0;
  let failed = 0;
  for (let round = 1; round <= MAX_ROUNDS; round++) {
    let ran = 0;
    for (const node of NODES) {
      const result = await tend(node, ['--json', 'schedule', 'tick']);
      ticks++;
      let report: TickReport;
      try {
        report = JSON.parse(result.stdout) as TickReport;
      } catch {
        throw new Error(`tend schedule tick on ${node.name} exited ${result.exitCode}:\n${result.stderr}`);
      }
      const done = report.tasks.map(
        (t) => `${t.keyspace}.${t.tables.join('+')}${t.status === 'success' ? '' : ` (${t.status})`}`,
      );
      tasks += report.tasks.length;
      failed += report.tasks.filter((t) => t.status !== 'success').length;
      ran += report.tasks.length;
      say(`  ${node.name} tick: ${report.result}${done.length > 0 ? `: ${done.join(', ')}` : ''}`);
    }
    if (ran === 0) break;
  }
  return { ticks, tasks, failed };
}

async function tableStates(): Promise<TableState[]> {
  const states: TableState[] = [];
  for (const keyspace of KEYSPACES) {
    const result = await tend(NODES[0]!, ['--json', 'schedule', 'status', keyspace.name]);
    const report = JSON.parse(result.stdout) as {
      rows: { keyspace: string; table: string; lastRepairedAt: number | null }[];
    };
    states.push(...report.rows.map((r) => ({ table: `${r.keyspace}.${r.table}`, lastRepairedAt: r.lastRepairedAt })));
  }
  return states;
}

function describeChanges(last: LastRun, now: TableState[]): string[] {
  const minutes = Math.max(1, Math.round((Date.now() - last.at) / 60_000));
  const before = new Map(last.tables.map((t) => [t.table, t.lastRepairedAt]));
  const again = now.filter((t) => t.lastRepairedAt !== null && t.lastRepairedAt !== before.get(t.table));
  const kept = now.filter((t) => t.lastRepairedAt !== null && t.lastRepairedAt === before.get(t.table));
  return [
    `Since the last demo run (${minutes} min ago): ${again.length} table(s) repaired again, ${kept.length} still ` +
      'covered by the repairs it made (not due again before their 7-day interval), and new rows written this time.',
    ...(again.length > 0 ? [`  repaired again: ${again.map((t) => t.table).join(', ')}`] : []),
  ];
}

async function main(): Promise<void> {
  if (SECURE) {
    // The demo applies tend's schema with the nodes' own configurations, which the secured profile's role may not.
    throw new Error(
      'npm run demo runs on the default profile: unset TEND_SANDBOX_SECURE (the secured profile is shown by test/secure)',
    );
  }
  if (!existsSync(join(BIN, '..', '..', 'dist', 'src'))) throw new Error('dist/ is missing: run npm run build first');
  await up();
  writeConfigs();
  const last = existsSync(lastRunPath()) ? (JSON.parse(readFileSync(lastRunPath(), 'utf8')) as LastRun) : undefined;

  say();
  const { created, rows } = await createKeyspaces();
  say(
    created.length > 0
      ? `Created ${created.join(' and ')}: demo_shop (dc1: 2, dc2: 1) with orders, customers and "CartItems"; ` +
          'demo_metrics (dc1 only) with readings.'
      : 'The demo keyspaces are there from the last run.',
  );
  say(
    `Wrote ${rows} rows. tend's tables: ${(await tend(NODES[0]!, ['schema', 'apply'])).exitCode === 0 ? 'ready' : 'FAILED'}.`,
  );
  say();
  say(`Each node's timer runs \`tend schedule tick\`; here they run in turn until nothing is due:`);
  const { ticks, tasks, failed } = await tickUntilNothingDue();
  say(`${ticks} ticks, ${tasks} repair task(s), ${failed} failed.`);
  say();

  // One keyspace at a time: a sandbox the tests have used also holds their keyspaces (disabled in this config).
  for (const keyspace of KEYSPACES) {
    say(`$ tend schedule status ${keyspace.name}`);
    await execa('node', [BIN, '-c', configPath(NODES[0]!), 'schedule', 'status', keyspace.name], {
      stdio: ['ignore', 'inherit', 'inherit'],
      reject: false,
    });
  }
  say();
  const states = await tableStates();
  if (last) {
    for (const line of describeChanges(last, states)) say(line);
    say();
  }
  writeFileSync(lastRunPath(), JSON.stringify({ at: Date.now(), rows, tables: states } satisfies LastRun));

  const config = configPath(NODES[0]!);
  say('What to try next:');
  say(`  node bin/tend -c ${config} schedule plan --explain     # what the next tick would do, and why`);
  say(`  node bin/tend -c ${config} history show --coverage     # share of each table's ranges repaired`);
  say(`  node bin/tend -c ${config} lease status                # who holds which lease`);
  if (failed > 0) process.exitCode = 6;
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
