/**
 * Secrets stay secret while tend runs, on the secured sandbox (TEND_SANDBOX_SECURE=1) with real passwords for
 * Cassandra, JMX and Jolokia and a real Consul token:
 *
 * - during a tick, /proc is sampled every 10 ms for tend and every process it starts (nodetool's shell wrapper and
 *   the JVM it execs): no password or token in any command line, and none in the environment of any child, even
 *   when the operator gives tend its secrets by environment variable;
 * - nothing tend writes carries one: the journal-style log lines (key=value on stderr, at debug level), the
 *   `--json` document, the metrics file;
 * - a secret file others can read is named in a warning by the running command, not only by `config check`.
 *
 * Three ticks, each on a keyspace of its own so each has a repair to run: nodetool + Consul leases with every
 * secret in a file; the same with the Cassandra password and Consul token in the environment; Jolokia + Cassandra
 * leases with the Cassandra and Jolokia passwords in the environment.
 */
import { expect } from 'chai';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type cassandra from 'cassandra-driver';
import { readSecretValue, securePaths } from '../sandbox/src/secure.js';
import { cqlClient } from '../support/sandbox-clients.js';
import {
  createSmallKeyspace,
  createTendKeyspace,
  nodeByName,
  RUN,
  tend,
  tick,
  writeScopedConfig,
  type TickJson,
} from '../support/tick-e2e.js';
import {
  expectNoSecret,
  requireSecureProfile,
  sampleProcessTree,
  secretValues,
  variant,
  type SampledProcess,
} from '../support/secure-e2e.js';

const TEND_KS = `tend_sec_secrets_${RUN}`;

interface TickVariant {
  name: string;
  keyspace: string;
  executor: 'nodetool' | 'jolokia';
  leaseBackend: 'cassandra' | 'consul';
  /** Secrets given by environment variable instead of by file (the file key is removed from tend.yml). */
  fromEnvironment: Array<'cassandra' | 'consul' | 'jolokia'>;
}

const VARIANTS: TickVariant[] = [
  {
    name: 'nodetool + Consul leases, every secret in a file',
    keyspace: `sec_proc_files_${RUN}`,
    executor: 'nodetool',
    leaseBackend: 'consul',
    fromEnvironment: [],
  },
  {
    name: 'nodetool + Consul leases, Cassandra password and Consul token in the environment',
    keyspace: `sec_proc_env_${RUN}`,
    executor: 'nodetool',
    leaseBackend: 'consul',
    fromEnvironment: ['cassandra', 'consul'],
  },
  {
    name: 'Jolokia + Cassandra leases, Cassandra and Jolokia passwords in the environment',
    keyspace: `sec_proc_jolokia_${RUN}`,
    executor: 'jolokia',
    leaseBackend: 'cassandra',
    fromEnvironment: ['cassandra', 'jolokia'],
  },
];

const FILE_KEY = {
  cassandra: 'cassandra.auth.passwordFile',
  consul: 'lease.consul.tokenFile',
  jolokia: 'executor.jolokia.passwordFile',
} as const;
const ENV_VARIABLE = {
  cassandra: 'TEND_CASSANDRA_PASSWORD',
  consul: 'TEND_CONSUL_TOKEN',
  jolokia: 'TEND_JOLOKIA_PASSWORD',
} as const;
const SECRET_FILE = {
  cassandra: securePaths.cassandraPassword,
  consul: securePaths.consulToken,
  jolokia: securePaths.jolokiaPassword,
} as const;

/** The secret values a process's text holds, by the name of their file. */
function secretsIn(text: string): string[] {
  return [...secretValues()].filter(([, value]) => text.includes(value)).map(([file]) => file);
}

/** `text` with every secret value replaced, for assertion messages (a failing run must not print them either). */
function masked(text: string): string {
  let out = text;
  for (const [file, value] of secretValues()) out = out.split(value).join(`<${file}>`);
  return out;
}

describe('secured sandbox: secrets stay secret while tend runs (e2e)', function () {
  this.timeout(10 * 60_000);
  let dir: string;
  let client: cassandra.Client;

  before(async function () {
    requireSecureProfile();
    dir = mkdtempSync(join(tmpdir(), 'tend-secure-secrets-'));
    client = cqlClient();
    await client.connect();
    await createTendKeyspace(client, TEND_KS);
    for (const v of VARIANTS) await createSmallKeyspace(client, v.keyspace, { dc1: 2, dc2: 1 }, ['t']);
  });

  after(async function () {
    for (const keyspace of [TEND_KS, ...VARIANTS.map((v) => v.keyspace)]) {
      await client?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    }
    await client?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const v of VARIANTS) {
    it(`a tick (${v.name}): no secret in any command line or child environment, log, JSON or metrics`, async function () {
      const metricsDirectory = join(dir, 'metrics', v.keyspace);
      mkdirSync(join(dir, v.keyspace), { recursive: true });
      const scoped = writeScopedConfig(join(dir, v.keyspace), nodeByName('node1'), {
        tendKeyspace: TEND_KS,
        keyspaces: [v.keyspace],
        executor: v.executor,
        leaseBackend: v.leaseBackend,
        metricsDirectory,
      });
      const config = variant(
        scoped,
        'env',
        Object.fromEntries(v.fromEnvironment.map((secret) => [FILE_KEY[secret], undefined])),
      );
      const env = Object.fromEntries(
        v.fromEnvironment.map((secret) => [ENV_VARIABLE[secret], readSecretValue(SECRET_FILE[secret]())]),
      );
      // -v: debug lines too, where there are any; piped stderr: the key=value lines the journal gets.
      const running = tick(config, ['-v'], { env: { ...process.env, ...env } });
      const sampler = sampleProcessTree(running.pid!);
      const result = await running;
      const processes = [...sampler.stop().values()];

      expect(result.exitCode, String(result.stderr)).to.equal(0);
      const report = JSON.parse(String(result.stdout)) as TickJson;
      expect(report.result, report.summary).to.equal('ran');
      expect(report.tasks.map((t) => t.status)).to.deep.equal(['success']);

      // The sampler saw tend itself, and for nodetool the JVM, given its password as a file.
      const cmdlines = processes.flatMap((p) => [...p.cmdlines]);
      expect(cmdlines.some((c) => c.includes('bin/tend') && c.includes('schedule tick'))).to.equal(true);
      if (v.executor === 'nodetool') {
        const jvm = cmdlines.filter((c) => c.includes('org.apache.cassandra.tools.NodeTool'));
        expect(jvm.length, `nodetool's JVM among ${processes.length} sampled processes`).to.be.greaterThan(0);
        expect(jvm.every((c) => c.includes(`-pwf ${securePaths.nodetoolPasswordFile()}`))).to.equal(true);
      }
      for (const p of processes) {
        for (const cmdline of p.cmdlines)
          expect(secretsIn(cmdline), `pid ${p.pid}: ${masked(cmdline)}`).to.deep.equal([]);
      }
      // Children: whatever tend's own environment holds (the operator's choice), they get none of it.
      const children = processes.filter((p: SampledProcess) => p.pid !== running.pid);
      if (v.executor === 'nodetool') expect(children.length).to.be.greaterThan(0);
      for (const child of children) {
        for (const environ of child.environs) {
          expect(
            secretsIn(environ),
            `environment of pid ${child.pid} (${masked([...child.cmdlines][0] ?? '')})`,
          ).to.deep.equal([]);
        }
      }

      expectNoSecret(String(result.stdout), 'the --json document');
      expectNoSecret(String(result.stderr), 'the log lines');
      expect(String(result.stderr)).to.match(/^level=info msg="repairing /m);
      const metrics = readFileSync(join(metricsDirectory, 'tend.prom'), 'utf8');
      expect(metrics).to.include('tend_');
      expectNoSecret(metrics, 'tend.prom');
    });
  }

  it('a running command names a secret file others can read (mode 0644) in a warning', async function () {
    const open = join(dir, 'cassandra.password');
    copyFileSync(securePaths.cassandraPassword(), open);
    chmodSync(open, 0o644);
    const base = writeScopedConfig(join(dir, 'modes'), nodeByName('node1'), {
      tendKeyspace: TEND_KS,
      keyspaces: [VARIANTS[0]!.keyspace],
    });
    const config = variant(base, 'open', { 'cassandra.auth.passwordFile': open });
    const result = await tend(config, ['schedule', 'tick', '--dry-run']);
    expect(result.exitCode, String(result.stderr)).to.equal(0);
    expect(String(result.stderr)).to.include(
      `level=warn msg="cassandra.auth.passwordFile: ${open} is readable by group and others (mode 0644); make it readable by the tend user only (chmod 600)"`,
    );
    // The sandbox's own files are 0600: no such warning for them.
    const clean = await tend(base, ['schedule', 'tick', '--dry-run']);
    expect(String(clean.stderr)).not.to.include('is readable by');
    expectNoSecret(`${result.stdout}\n${result.stderr}`, 'the dry run');
  });
});
