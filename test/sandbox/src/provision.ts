/**
 * Fetches and builds what the sandbox runs, once, into the cache directory:
 * - the Cassandra runtime jars and the Jolokia agent, resolved by Maven from Maven Central (pom in test/sandbox/cassandra);
 * - Consul, built from source fetched through the Go module proxy.
 * Each step is skipped when its output is already there.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, cpSync, chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { CASSANDRA_VERSION, CONSUL_VERSION, SANDBOX_SOURCE_DIR, paths } from './layout.js';
import { log, SandboxError } from './log.js';

interface Prerequisite {
  command: string;
  args: string[];
  why: string;
  install: string;
  check?: (output: string) => string | undefined;
}

const JAVA: Prerequisite = {
  command: 'java',
  args: ['-version'],
  why: 'runs the Cassandra nodes and nodetool',
  install: 'apt-get install openjdk-17-jdk-headless',
  check: (output) => {
    const match = /version "(\d+)/.exec(output);
    const major = match ? Number(match[1]) : 0;
    // Cassandra 5.0 supports Java 11 and 17; the JVM flags in test/sandbox/cassandra/jvm17.args are for 17.
    return major === 17 ? undefined : `Java 17 is required (found ${match ? match[1] : 'an unknown version'})`;
  },
};
const MAVEN: Prerequisite = {
  command: 'mvn',
  args: ['-v'],
  why: 'fetches cassandra-all and the Jolokia agent from Maven Central',
  install: 'apt-get install maven',
};
const GO: Prerequisite = {
  command: 'go',
  args: ['version'],
  why: 'builds Consul from the Go module proxy',
  install: 'apt-get install golang (Go 1.21 or later)',
};

async function requirePrerequisite(p: Prerequisite): Promise<void> {
  let output: string;
  try {
    const result = await execa(p.command, p.args, { all: true, timeout: 30_000 });
    output = result.all ?? '';
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT') throw new SandboxError(`${p.command} not found: it ${p.why}. Install it: ${p.install}`);
    throw new SandboxError(`${p.command} ${p.args.join(' ')} failed: ${(error as Error).message}`);
  }
  const problem = p.check?.(output);
  if (problem) throw new SandboxError(`${problem}; ${p.command} ${p.why}. Install it: ${p.install}`);
}

function cassandraRuntimeReady(): boolean {
  const lib = paths.lib();
  return (
    existsSync(join(lib, `cassandra-all-${CASSANDRA_VERSION}.jar`)) &&
    existsSync(paths.jolokiaAgent()) &&
    readdirSync(lib).some((f) => f.startsWith('jamm-'))
  );
}

export function jammJar(): string {
  const jamm = readdirSync(paths.lib()).find((f) => f.startsWith('jamm-') && f.endsWith('.jar'));
  if (!jamm) throw new SandboxError(`jamm agent jar missing from ${paths.lib()}; run the sandbox's provision again`);
  return join(paths.lib(), jamm);
}

async function provisionCassandra(): Promise<void> {
  if (cassandraRuntimeReady()) return;
  await requirePrerequisite(MAVEN);
  log(
    `fetching Cassandra ${CASSANDRA_VERSION} and the Jolokia agent from Maven Central (once; cached in ${paths.runtime()})`,
  );
  const started = Date.now();
  await execa(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      join(SANDBOX_SOURCE_DIR, 'cassandra', 'pom.xml'),
      `-Dtend.runtime.dir=${paths.runtime()}`,
      'package',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'], timeout: 20 * 60_000 },
  );
  if (!cassandraRuntimeReady())
    throw new SandboxError(`Maven finished but the jars are missing from ${paths.runtime()}`);
  log(`Cassandra runtime ready in ${Math.round((Date.now() - started) / 1000)}s`);
}

/**
 * Consul v1.16.1 is the last MPL-licensed release. Its go.mod replaces the nested modules (api, sdk, …) with
 * local directories that the module zip does not contain, so we build with consul as the main module and drop
 * those replaces: the require lines then pin the nested modules at their tagged versions, and consul's own
 * `exclude` block (go-msgpack v1.1.5/1.1.6) stays in force, which it would not in a wrapper module.
 *
 * The checksum database (reached through the proxy) answers 404 for some of the nested tags, e.g.
 * consul/envoyextensions v0.4.1, although the proxy serves the module itself. GONOSUMDB for those nested modules
 * lets the build proceed; the root module is still verified. This is test infrastructure, not something we ship.
 */
async function provisionConsul(): Promise<void> {
  const binary = paths.consulBinary();
  if (existsSync(binary)) return;
  await requirePrerequisite(GO);
  const work = paths.consulBuild();
  mkdirSync(work, { recursive: true });
  const env = {
    ...process.env,
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=mod',
    GONOSUMDB: 'github.com/hashicorp/consul/*',
    CGO_ENABLED: '0',
  };
  log(`building Consul ${CONSUL_VERSION} from the Go module proxy (once; several minutes; cached in ${work})`);
  const started = Date.now();
  const go = (args: string[], cwd: string) =>
    execa('go', args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'], timeout: 40 * 60_000 });
  await go(['mod', 'download', `github.com/hashicorp/consul@${CONSUL_VERSION}`], work);
  const { stdout: modCache } = await execa('go', ['env', 'GOMODCACHE'], { env });
  const source = join(work, 'src');
  rmSync(source, { recursive: true, force: true });
  cpSync(join(modCache, 'github.com', 'hashicorp', `consul@${CONSUL_VERSION}`), source, { recursive: true });
  makeWritable(source);
  await go(
    [
      'mod',
      'edit',
      ...['api', 'envoyextensions', 'proto-public', 'sdk', 'troubleshoot'].map(
        (m) => `-dropreplace=github.com/hashicorp/consul/${m}`,
      ),
    ],
    source,
  );
  await go(['build', '-trimpath', '-o', binary, '.'], source);
  rmSync(source, { recursive: true, force: true });
  log(`Consul built in ${Math.round((Date.now() - started) / 1000)}s`);
}

function makeWritable(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      chmodSync(full, 0o755);
      makeWritable(full);
    } else if (entry.isFile()) {
      chmodSync(full, statSync(full).mode | 0o200);
    }
  }
  chmodSync(dir, 0o755);
}

export async function provision(): Promise<void> {
  await requirePrerequisite(JAVA);
  // Independent downloads: run them side by side.
  await Promise.all([provisionCassandra(), provisionConsul()]);
}
