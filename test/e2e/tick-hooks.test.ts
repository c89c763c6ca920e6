/**
 * The operator's hooks on a real tick (issue 15 item 5), end to end through the built `tend schedule tick`: the lease
 * is taken away while the repair runs, so one tick meets a failed (aborted) task, a lost lease, a table past its
 * error alarm (never repaired) and its own end. Each hook is a real program (node running a script) that appends
 * the JSON it read on stdin and its TEND_EVENT_EVENT variable to a file; the onTick hook then hangs, ignoring
 * SIGTERM, and is killed at its 1 s timeout without changing the tick's exit code.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import { cqlClient } from '../support/sandbox-clients.js';
import {
  createTendKeyspace,
  inconsistentKeyspace,
  nodeByName,
  noRepairLeft,
  RUN,
  throttledStreaming,
  tick,
  untilRepairRuns,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';

const TEND_KS = `tend_e2e_hooks_${RUN}`;
const KS = `e2e_hooks_${RUN}`;

/** Appends {stdin, env} to argv[2]; with argv[3] = hang, then ignores SIGTERM and never ends. */
const HOOK_SCRIPT = `
const fs = require('fs');
let input = '';
process.stdin.on('data', (d) => (input += d)).on('end', () => {
  fs.appendFileSync(process.argv[2], JSON.stringify({ stdin: JSON.parse(input), env: process.env.TEND_EVENT_EVENT }) + '\\n');
  if (process.argv[3] === 'hang') {
    process.on('SIGTERM', () => {});
    setInterval(() => {}, 1000);
  }
});
`;

interface Seen {
  stdin: Record<string, unknown>;
  env: string;
}

describe('schedule tick: hooks run on its events (e2e)', function () {
  this.timeout(5 * 60_000);
  let dir: string;
  let client: cassandra.Client;
  const node = nodeByName('node1');

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'tend-tick-hooks-'));
    client = cqlClient();
    await client.connect();
    await createTendKeyspace(client, TEND_KS);
    await inconsistentKeyspace(client, KS, 10);
  });

  after(async function () {
    for (const keyspace of [KS, TEND_KS]) {
      await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    }
    await client?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const seen = (name: string): Seen[] => {
    const file = join(dir, `${name}.jsonl`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Seen);
  };

  it('task_failed, lease_broken, alarm and tick reach their hooks as JSON on stdin; a hung hook is killed', async function () {
    const script = join(dir, 'hook.cjs');
    writeFileSync(script, HOOK_SCRIPT);
    const hook = (name: string, ...extra: string[]) => ({
      command: [process.execPath, script, join(dir, `${name}.jsonl`), ...extra],
      timeout: '1s',
    });
    const config = writeScopedConfig(dir, node, {
      tendKeyspace: TEND_KS,
      keyspaces: [KS],
      executor: 'jolokia',
      schedule: { maxTasks: 1 },
      lease: { ttl: '30s', renewEvery: '2s' },
      hooks: {
        onTaskFailed: hook('failed'),
        onLeaseBroken: hook('broken'),
        onAlarm: hook('alarm'),
        onTick: hook('tick', 'hang'),
      },
    });
    const since = Date.now();
    const result = await throttledStreaming(async () => {
      const running = tick(config);
      await untilRepairRuns(client, KS, since);
      await client.execute(`TRUNCATE ${TEND_KS}.leases`);
      return running;
    });
    await noRepairLeft(client, KS, since);
    // The tick's own exit code: a lost lease (1), whatever its hooks did.
    expect(result.exitCode, String(result.stderr)).to.equal(1);
    const report = JSON.parse(String(result.stdout)) as TickJson & { tickId: string };
    expect(report.tasks.map((t) => t.status)).to.deep.equal(['aborted']);

    const failed = seen('failed');
    expect(failed.map((s) => [s.env, s.stdin.event, s.stdin.keyspace, s.stdin.status])).to.deep.equal([
      ['task_failed', 'task_failed', KS, 'aborted'],
    ]);
    expect(failed[0]!.stdin).to.include({ tickId: report.tickId, node: 'node1', taskId: report.tasks[0]!.id });
    expect(failed[0]!.stdin.tables).to.deep.equal(['big']);

    const broken = seen('broken');
    expect(broken.map((s) => [s.env, s.stdin.tickId])).to.deep.equal([['lease_broken', report.tickId]]);
    expect(String(broken[0]!.stdin.message)).to.match(/^lease .* was lost$/);

    const alarm = seen('alarm');
    expect(alarm.map((s) => [s.env, s.stdin.level])).to.deep.equal([['alarm', 'error']]);
    expect(alarm[0]!.stdin.tables).to.deep.include({ table: `${KS}.big`, level: 'error', lastRepairedAt: null });

    const ticked = seen('tick');
    expect(ticked.map((s) => [s.env, s.stdin.result, s.stdin.tickId])).to.deep.equal([
      ['tick', 'failed', report.tickId],
    ]);
    // The hung onTick hook was stopped at its timeout: SIGTERM ignored, then SIGKILL; a warning, nothing more.
    expect(String(result.stderr)).to.match(/hook onTick \(.*\) stopped at its timeout after \d+ms/);
  });
});
