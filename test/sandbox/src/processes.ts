import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { processAlive, sleep } from './wait.js';

/**
 * A sandbox server process: started detached (it outlives `sandbox up`), tracked by a pid file, and recognised
 * by a marker in its command line so a recycled pid is never mistaken for ours.
 */
export interface Daemon {
  name: string;
  pidFile: string;
  /** A string that appears in the process's command line (e.g. its data directory). */
  marker: string;
}

export function runningPid(daemon: Daemon): number | undefined {
  if (!existsSync(daemon.pidFile)) return undefined;
  const pid = Number(readFileSync(daemon.pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(daemon.marker)) return undefined;
  } catch {
    return undefined;
  }
  return pid;
}

export function startDaemon(daemon: Daemon, command: string, args: string[], logFile: string, cwd: string): number {
  const out = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', out, out] });
    if (child.pid === undefined) throw new Error(`could not start ${daemon.name}: ${command} did not spawn`);
    child.unref();
    writeFileSync(daemon.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** SIGTERM, then SIGKILL after the grace period: `down` must leave no process behind. */
export async function stopDaemon(daemon: Daemon, graceMs: number): Promise<boolean> {
  const pid = runningPid(daemon);
  if (pid === undefined) {
    rmSync(daemon.pidFile, { force: true });
    return false;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (processAlive(pid) && Date.now() < deadline) await sleep(250);
  if (processAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (processAlive(pid)) await sleep(100);
  }
  rmSync(daemon.pidFile, { force: true });
  return true;
}

export function tail(file: string, lines: number): string {
  if (!existsSync(file)) return `(no ${file})`;
  const all = readFileSync(file, 'utf8').split('\n');
  return all.slice(-lines - 1).join('\n');
}
