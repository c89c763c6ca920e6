/**
 * Helpers for the e2e tests of the secured profile (test/secure/*.test.ts, TEND_SANDBOX_SECURE=1): configurations
 * with one thing broken, the secret values to look for in everything tend writes, and checks that an error is an
 * operator's message, not a stack trace.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { SECURE } from '../sandbox/src/layout.js';
import { readSecretValue, securePaths } from '../sandbox/src/secure.js';

/** Fails the suite at once when the sandbox is not the secured profile: these tests mean nothing elsewhere. */
export function requireSecureProfile(): void {
  if (!SECURE) {
    throw new Error(
      'test/secure needs the secured sandbox profile: TEND_SANDBOX_SECURE=1 (with its own TEND_SANDBOX_INSTANCE)',
    );
  }
}

/** Every password and token of the secured sandbox: tend's, the superuser's, Consul's management token. */
export function secretValues(): Map<string, string> {
  const dir = join(securePaths.root(), 'secrets');
  const values = new Map<string, string>();
  for (const file of readdirSync(dir)) {
    if (file === 'nodetool.password') continue; // "tend PASSWORD": the password is jmx.password's
    values.set(file, readSecretValue(join(dir, file)));
  }
  return values;
}

/** No secret value (nor `extra`, e.g. a wrong password a test put in a file) appears in `text`. */
export function expectNoSecret(text: string, where: string, extra: string[] = []): void {
  for (const [file, value] of secretValues()) {
    expect(text.includes(value), `${where} contains the secret from ${file}`).to.equal(false);
  }
  for (const value of extra) expect(text.includes(value), `${where} contains ${value}`).to.equal(false);
}

/** An error an operator reads: no JavaScript or Java stack frames, no native OpenSSL error dump. */
export function expectNoStackTrace(stderr: string): void {
  expect(stderr, 'a JavaScript stack frame').not.to.match(/^\s+at .+[(/].+:\d+(:\d+)?\)?$/m);
  expect(stderr, "nodetool's Java stack trace").not.to.match(/-- StackTrace --|^\s*at (java|javax|sun|org)\./m);
  expect(stderr, "OpenSSL's error dump").not.to.match(/[0-9A-F]{8,}:error:[0-9A-F]+:SSL routines/);
  expect(stderr, 'node internals').not.to.include('node:internal');
}

/**
 * Writes a copy of the configuration at `file` with the dotted keys of `changes` set (e.g.
 * `{ 'cassandra.tls.caFile': rogueCa }`), and returns its path.
 */
export function variant(file: string, name: string, changes: Record<string, unknown>): string {
  const config = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    let section = config;
    for (const key of keys.slice(0, -1)) {
      section[key] ??= {};
      section = section[key] as Record<string, unknown>;
    }
    section[keys.at(-1)!] = value;
  }
  const out = file.replace(/\.yml$/, `.${name}.yml`);
  writeFileSync(out, stringify(config));
  return out;
}

/** What the sampler saw of one process: every command line and environment it had while it ran. */
export interface SampledProcess {
  pid: number;
  cmdlines: Set<string>;
  /** NUL-separated VAR=value entries, as /proc/PID/environ holds them. */
  environs: Set<string>;
}

function parentOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "PID (comm) STATE PPID …": comm may hold spaces and parentheses, so read after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined; // gone since readdir
  }
}

function readProc(pid: number, file: 'cmdline' | 'environ'): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Samples /proc every `intervalMs` for `root` and all its descendants (children, grandchildren: nodetool's shell
 * wrapper execs its JVM in place, so the pid stays and its command line changes), recording each command line and
 * environment seen. Synchronous reads in a timer: the test process only waits for the child meanwhile.
 */
export function sampleProcessTree(root: number, intervalMs = 10): { stop: () => Map<number, SampledProcess> } {
  const seen = new Map<number, SampledProcess>();
  const sample = () => {
    const children = new Map<number, number[]>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const parent = parentOf(entry);
      if (parent === undefined) continue;
      const list = children.get(parent) ?? [];
      list.push(Number(entry));
      children.set(parent, list);
    }
    const tree = [root];
    for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
    for (const pid of tree) {
      const cmdline = readProc(pid, 'cmdline');
      if (cmdline === undefined) continue;
      const entry = seen.get(pid) ?? { pid, cmdlines: new Set<string>(), environs: new Set<string>() };
      entry.cmdlines.add(cmdline.replaceAll('\0', ' ').trim());
      const environ = readProc(pid, 'environ');
      if (environ !== undefined) entry.environs.add(environ);
      seen.set(pid, entry);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return seen;
    },
  };
}
