/** Starting lease-race-child.ts as separate OS processes and reading what they print. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./lease-race-child.ts', import.meta.url));

export interface Contender {
  process: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves with the first line matching. */
  waitFor(test: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export function startContender(args: string[]): Contender {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{
    test: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }> = [];
  let buffer = '';
  const contender: Contender = {
    process: child,
    lines,
    stderr: '',
    exited: new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        contender.stderr += `[exited with code ${code} signal ${signal} at ${Date.now()}]`;
        resolve(code);
      }),
    ),
    waitFor(test, timeoutMs = 60_000) {
      const found = lines.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `timed out at ${Date.now()} waiting for a line; got ${JSON.stringify(lines)} ${contender.stderr}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          test,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      });
    },
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    contender.stderr += chunk.toString('utf8');
  });
  return contender;
}

export interface HoldInterval {
  contender: number;
  round: number;
  start: number;
  end: number;
}

/** Pairs of intervals that overlap in time (sorted by start, each compared with the latest end so far). */
export function overlaps(intervals: readonly HoldInterval[]): Array<[HoldInterval, HoldInterval]> {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const found: Array<[HoldInterval, HoldInterval]> = [];
  let latest: HoldInterval | undefined;
  for (const interval of sorted) {
    if (latest && interval.start < latest.end) found.push([latest, interval]);
    if (!latest || interval.end > latest.end) latest = interval;
  }
  return found;
}
