/**
 * nodetool's argument lists and the parsers of what it prints, as pure functions. Tested on output captured
 * from the sandbox's real nodetool (test/fixtures/nodetool/<version>/, re-captured by capture.sh).
 *
 * What nodetool repair prints is a relay of the coordinator's JMX notifications, and notifications can be missed
 * (the "Starting repair command" line is sometimes absent), so the verdict rests on the exit code first and the
 * lines second. stderr may carry JVM noise before the real error (a broken logging config, warnings), so the
 * parsers look for nodetool's own `error:` / `nodetool:` lines instead of taking the first line.
 */
import type { RepairParallelism, TokenRangeText } from '../core/index.js';
import type { RepairRequest } from './executor.js';

export interface NodetoolConnection {
  readonly path: string;
  readonly host: string;
  readonly port: number;
  readonly user?: string | undefined;
  /** Passed as -pwf: nodetool reads it itself, so the password is never in argv (tend reads it only to mask it). */
  readonly passwordFile?: string | undefined;
}

export function connectionArgs(connection: NodetoolConnection): string[] {
  return [
    '-h',
    connection.host,
    '-p',
    String(connection.port),
    ...(connection.user ? ['-u', connection.user] : []),
    ...(connection.passwordFile ? ['-pwf', connection.passwordFile] : []),
  ];
}

export function parallelismArgs(parallelism: RepairParallelism): string[] {
  switch (parallelism) {
    case 'sequential':
      return ['-seq'];
    case 'dc_parallel':
      return ['-dcpar'];
    case 'parallel':
      return []; // nodetool's default
  }
}

/**
 * `repair` arguments for one call: one range (nodetool takes a single -st/-et pair) or none for a whole-table
 * task. Incremental is nodetool's default, so only full repairs carry a flag.
 */
export function repairArgs(request: RepairRequest, range: TokenRangeText | undefined): string[] {
  return [
    'repair',
    ...(request.incremental ? [] : ['--full']),
    ...parallelismArgs(request.parallelism),
    ...(request.primaryRange ? ['-pr'] : []),
    ...(request.limitToDatacenters ?? []).flatMap((dc) => ['-dc', dc]),
    ...(request.limitToHosts ?? []).flatMap((host) => ['-hosts', host]),
    ...(range ? ['-st', range.start, '-et', range.end] : []),
    request.keyspace,
    ...request.tables,
  ];
}

/** Stops every repair session the node coordinates, through nodetool's own JMX connection (sjk mx). */
export const TERMINATE_REPAIRS_ARGS = [
  'sjk',
  'mx',
  '-b',
  'org.apache.cassandra.db:type=StorageService',
  '-mc',
  '-op',
  'forceTerminateAllRepairSessions',
] as const;

export type RepairVerdict =
  /** Cassandra repaired the requested ranges. */
  | 'success'
  /** Cassandra had nothing to repair (replication factor 1): the data has no second copy to compare. */
  | 'nothing_to_repair'
  /** Cassandra refused or failed the repair; `message` is its reason. */
  | 'failed'
  /** nodetool could not reach the node's JMX port. */
  | 'unreachable'
  /** JMX refused nodetool's credentials (a wrong password, or none where the node requires one). */
  | 'refused_credentials';

export interface ParsedRepairRun {
  readonly verdict: RepairVerdict;
  /** Cassandra's reason (failed, unreachable) or its last progress line. */
  readonly message: string;
  /** `#12` command numbers and parent session ids seen. */
  readonly commands: string[];
  /** Repair sessions that finished, with the ranges Cassandra says each covered. */
  readonly sessions: { id: string; ranges: TokenRangeText[] }[];
}

const LINE_PREFIX = /^\[[^\]]*\]\s*/;

/** `(a,b], (c,d]` → ranges (Cassandra's Range.toString). */
export function parseRangeList(text: string): TokenRangeText[] {
  return [...text.matchAll(/\((-?\d+),\s*(-?\d+)\]/g)].map((m) => ({ start: m[1]!, end: m[2]! }));
}

export function parseRepairOutput(stdout: string, stderr: string, exitCode: number | undefined): ParsedRepairRun {
  const lines = stdout
    .split(/\r?\n/)
    .map((line) => line.replace(LINE_PREFIX, '').trim())
    .filter((line) => line.length > 0);
  const commands = new Set<string>();
  const sessions: { id: string; ranges: TokenRangeText[] }[] = [];
  let failure: string | undefined;
  for (const line of lines) {
    const started = /^Starting repair command #(\d+) \(([0-9a-f-]{36})\)/.exec(line);
    if (started) {
      commands.add(`#${started[1]}`);
      commands.add(started[2]!);
    }
    const command = /^Repair command #(\d+)/.exec(line);
    if (command) commands.add(`#${command[1]}`);
    const failed = /^Repair command #\d+ failed with error (.*)$/.exec(line);
    if (failed && failure === undefined) failure = failed[1]!;
    const session = /^Repair session ([0-9a-f-]{36}) for range \[(.*)\] (finished|failed with error (.*))/.exec(line);
    if (session) {
      if (session[3] === 'finished') sessions.push({ id: session[1]!, ranges: parseRangeList(session[2]!) });
      else failure ??= `repair session ${session[1]} failed: ${session[4]}`;
    }
  }
  const base = { commands: [...commands], sessions };
  const errLines = stderr.split(/\r?\n/);
  // nodetool prints its own refusals ("nodetool: Keyspace [x] does not exist.") on stdout or stderr.
  const clientError = [...errLines, ...stdout.split(/\r?\n/)]
    .map((line) => /^nodetool: (.*)$/.exec(line)?.[1])
    .find((m) => m !== undefined);
  const jobError = errLines.map((line) => /^error: (.*)$/.exec(line)?.[1]).find((m) => m !== undefined);

  if (exitCode === 0) {
    const rf1 = lines.find((line) => /No repair is needed/.test(line));
    if (rf1 && !lines.some((line) => /Repair completed successfully/.test(line))) {
      return { ...base, verdict: 'nothing_to_repair', message: rf1 };
    }
    const last = [...lines].reverse().find((line) => /finished in|completed successfully/.test(line));
    return { ...base, verdict: 'success', message: last ?? 'repair completed' };
  }
  if (clientError && /Failed to connect|Connection refused|ConnectException|UnknownHost/i.test(clientError)) {
    return { ...base, verdict: 'unreachable', message: clientError };
  }
  // The JDK's JMX authenticator, as nodetool prints it (captured on 5.0.8 with a password file): "error: Invalid
  // username or password" for a wrong one, "error: Authentication failed! Credentials required" for none.
  if (jobError && /^(Invalid username or password|Authentication failed!)/.test(jobError)) {
    return { ...base, verdict: 'refused_credentials', message: jobError };
  }
  const message =
    failure ??
    (jobError ? stripJobErrorWrapping(jobError) : undefined) ??
    clientError ??
    lastMeaningfulLine(stderr) ??
    `nodetool exited with code ${exitCode ?? 'unknown'}`;
  return { ...base, verdict: 'failed', message };
}

/** "Repair job has failed with the error message: X. Check the logs…" → X. */
function stripJobErrorWrapping(text: string): string {
  const inner =
    /^Repair job has failed with the error message: (?:Repair command #\d+ failed with error )?(.*?)(?:\. Check the logs on the repair participants for further details)?$/.exec(
      text,
    );
  return inner?.[1] ?? text;
}

function lastMeaningfulLine(text: string): string | undefined {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('at ') && !line.startsWith('...'))
    .at(-1);
}

/** `nodetool tablestats KS.T…` → percent repaired per table. */
export function parseTablestatsPercentRepaired(stdout: string): Map<string, number> {
  const result = new Map<string, number>();
  let keyspace: string | undefined;
  let table: string | undefined;
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    const ks = /^Keyspace\s*:\s*(\S+)$/.exec(line);
    if (ks) {
      keyspace = ks[1];
      table = undefined;
      continue;
    }
    const tb = /^Table(?: \(index\))?:\s*(\S+)$/.exec(line);
    if (tb) {
      table = tb[1];
      continue;
    }
    const pr = /^Percent repaired:\s*([\d.]+|NaN)$/.exec(line);
    if (pr && keyspace && table) {
      const value = Number(pr[1]);
      if (Number.isFinite(value)) result.set(`${keyspace}.${table}`, value);
    }
  }
  return result;
}

/** `nodetool repair_admin summarize-repaired KS T…` → max repairedAt (epoch ms, as a number: it is a time). */
export function parseSummarizeRepaired(stdout: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of stdout.split(/\r?\n/)) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 4 || cells[0] === 'keyspace') continue;
    const [keyspace, table, , max] = cells;
    if (keyspace && table && max && /^\d+$/.test(max)) result.set(`${keyspace}.${table}`, Number(max));
  }
  return result;
}
