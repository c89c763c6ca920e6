/**
 * Mocha root hooks shared by test/integration and test/e2e: one sandbox for the whole run, the one that
 * TEND_SANDBOX_INSTANCE (and the other TEND_SANDBOX_* knobs, see test/sandbox/src/layout.ts) select, so several
 * runs can each use their own sandbox side by side.
 *
 * - When the sandbox is already running (a developer ran `npm run sandbox -- up`), it is used and left running.
 * - When it is partly running (say one node was stopped by hand), the missing parts are started and it is left
 *   running afterwards.
 * - Otherwise it is started before the first test and stopped after the last one, unless TEND_SANDBOX_KEEP=1
 *   asks to keep it for the next run (handy while iterating on integration tests).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { status, up, down } from '../sandbox/src/sandbox.js';

let startedHere = false;

async function sandboxState(): Promise<'running' | 'partial' | 'stopped'> {
  const s = await status();
  const up = [...s.nodes.map((n) => n.cql), s.consul.leader !== null];
  return up.every(Boolean) ? 'running' : up.some(Boolean) ? 'partial' : 'stopped';
}

/** The newest modification time of a file under `dir` ending in `suffix` (0 when there is none). */
function newest(dir: string, suffix: string): number {
  let latest = 0;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) latest = Math.max(latest, newest(path, suffix));
      else if (entry.name.endsWith(suffix)) latest = Math.max(latest, statSync(path).mtimeMs);
    }
  } catch {
    return 0;
  }
  return latest;
}

/**
 * The e2e tests run bin/tend, which runs the build in dist/: a source change without `npm run build` tests the old
 * code and reads as a pass or a puzzling failure. `npm test` builds first; a run by hand is told.
 */
function warnIfBuildIsStale(): void {
  const source = newest('src', '.ts');
  const built = newest(join('dist', 'src'), '.js');
  if (built === 0 || source > built) {
    process.stderr.write(
      `\nWARNING: dist/ is ${built === 0 ? 'missing' : 'older than src/'}: the e2e tests run bin/tend from dist/; ` +
        `run 'npm run build' first.\n\n`,
    );
  }
}

/**
 * True when every file of this run is a unit test (test/unit/): they need no sandbox, and a unit file run through
 * .mocharc.file.json must not start one (or complete someone else's half-stopped one, as happened while a CI run
 * had a node down on purpose).
 */
function onlyUnitFiles(context: Mocha.Context): boolean {
  let root = context.test?.parent;
  while (root?.parent) root = root.parent;
  const files = (root?.suites ?? []).map((suite) => suite.file).filter((file): file is string => Boolean(file));
  return files.length > 0 && files.every((file) => /(^|[\\/])test[\\/]unit[\\/]/.test(file));
}

let skipped = false;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    if (onlyUnitFiles(this)) {
      skipped = true;
      return;
    }
    warnIfBuildIsStale();
    // Starting three JVMs (and on a cold cache, fetching jars and building Consul) takes minutes, not seconds.
    this.timeout(60 * 60_000);
    const state = await sandboxState();
    if (state === 'running') return;
    // A partly running sandbox belongs to someone who is debugging it: complete it, but do not stop it after.
    startedHere = state === 'stopped';
    await up();
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    if (skipped) return;
    this.timeout(5 * 60_000);
    if (startedHere && process.env.TEND_SANDBOX_KEEP !== '1') await down({ purge: false });
  },
};
