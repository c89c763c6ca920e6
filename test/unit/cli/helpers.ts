/** Run `tend` in-process against fake streams, a temp directory and a fake environment. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { MemoryStream } from '../../../src/output/memory-stream.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  dir: string;
}

export interface RunOptions {
  /** Files to create in the temp directory (relative path → content). */
  files?: Record<string, string>;
  env?: Record<string, string>;
  /** Both streams on a terminal (default: piped). */
  tty?: boolean;
  stdoutTTY?: boolean;
  stderrTTY?: boolean;
  now?: Date;
}

export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-test-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

export async function runTend(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const dir = tempDir(options.files);
  const stdout = new MemoryStream(options.stdoutTTY ?? options.tty ?? false);
  const stderr = new MemoryStream(options.stderrTTY ?? options.tty ?? false);
  const code = await main(['node', 'tend', ...args], {
    stdout,
    stderr,
    env: options.env ?? {},
    cwd: dir,
    readFile: (path) => readFile(path.startsWith('/') ? path : join(dir, path), 'utf8'),
    systemConfigDir: join(dir, 'etc-tend'),
    ...(options.now ? { now: () => options.now as Date } : {}),
  });
  return { code, stdout: stdout.text, stderr: stderr.text, dir };
}

/**
 * Skip a test whose outside tool (zsh, fish, groff, man, systemd-analyze) is missing — unless
 * TEND_REQUIRE_TOOLS=1, as in CI, where a missing tool must fail rather than silently skip.
 */
export function requireTool(context: Mocha.Context, command: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  if (found) return;
  if (process.env.TEND_REQUIRE_TOOLS === '1') throw new Error(`${command} is required (TEND_REQUIRE_TOOLS=1)`);
  // Skipped only on a machine without the tool outside CI (see above); .ci/run sets TEND_REQUIRE_TOOLS=1.
  context.skip();
}
