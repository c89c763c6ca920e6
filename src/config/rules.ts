/**
 * Rules that span several keys. They run on sections that individually passed the schema, so an operator sees
 * every problem in one `config check`, not one per run.
 */
import type { TendConfig } from './schema.js';
import { formatDuration } from './units.js';
import { SECRET_ENV, type Env } from './secrets.js';
import { isLoopback, parseContactPoint } from './network.js';
import { CONSUL_MIN_SESSION_TTL_MS, consulSessionTtlMs } from '../core/consul-ttl.js';
import { DEFAULT_GC_GRACE_MS } from './schedule-defaults.js';

export interface Finding {
  path: string;
  message: string;
}

export interface RuleFindings {
  errors: Finding[];
  warnings: Finding[];
}

const d = formatDuration;

type Partial = { [K in keyof TendConfig]?: TendConfig[K] };

function tlsPairs(errors: Finding[], path: string, tls: { certFile?: string; keyFile?: string } | undefined): void {
  if (!tls) return;
  if (tls.certFile && !tls.keyFile) errors.push({ path: `${path}.keyFile`, message: 'required when certFile is set' });
  if (tls.keyFile && !tls.certFile) errors.push({ path: `${path}.certFile`, message: 'required when keyFile is set' });
}

function unverifiedTls(warnings: Finding[], path: string, tls: { rejectUnauthorized: boolean } | undefined): void {
  if (tls && !tls.rejectUnauthorized) {
    warnings.push({
      path: `${path}.rejectUnauthorized`,
      message:
        "is false: the server's certificate is not verified, so anyone on the path can pose as the server; use it only to diagnose",
    });
  }
}

/** A warning when `url` would carry `what` in clear text off this machine. */
function cleartext(warnings: Finding[], path: string, url: string, what: string, instead: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return;
  }
  if (parsed.protocol === 'http:' && !isLoopback(parsed.hostname)) {
    warnings.push({
      path,
      message: `sends ${what} in clear text over http to ${parsed.hostname}, which is not this machine; ${instead}`,
    });
  }
}

/**
 * The first contact point is where tend asks for the local datacenter (when none is set) and how it finds the node
 * it acts for (when node.* is not set). The driver knows nodes by address only (10.0.0.1:9042, and an IPv6 node as
 * ::1:9042, never [::1]:9042), and Cassandra lists nodes by address: a host name there, or an IPv6 address, matches
 * no node, and the command fails after connecting (exit 5 asking for the datacenter, exit 3 choosing the node).
 */
function firstContactPoint(
  errors: Finding[],
  cassandra: TendConfig['cassandra'],
  node: TendConfig['node'] | undefined,
): void {
  const first = cassandra.contactPoints[0];
  const parsed = first === undefined ? undefined : parseContactPoint(first);
  if (!parsed || 'reason' in parsed || parsed.kind === 'ipv4') return;
  const what = parsed.kind === 'name' ? `a host name (${first})` : `an IPv6 address (${first})`;
  const why =
    parsed.kind === 'name'
      ? 'the driver matches nodes by address (10.0.0.1:9042), not by name'
      : 'the driver writes an IPv6 node as ::1:9042, never [::1]:9042';
  if (!cassandra.localDatacenter) {
    errors.push({
      path: 'cassandra.localDatacenter',
      message: `required when the first contact point is ${what}: without it tend asks that node for its datacenter, and ${why}, so the question reaches no node (exit 5)`,
    });
  }
  if (parsed.kind === 'name' && node && !node.hostId && !node.address) {
    errors.push({
      path: 'node.address',
      message: `required (or node.hostId) when the first contact point is ${what}: tend finds the node it acts for by the first contact point's address, and Cassandra lists nodes by address (exit 3 after connecting)`,
    });
  }
}

/**
 * Order of the schedule values that are set: warn < error, interval < error, and (a warning) interval < warn. A
 * value left unset is a share of the error alarm (70% and 80%), in order by construction. With `entry`, only the
 * findings that involve a value the entry sets are reported there (the section's own are reported once, above).
 */
function scheduleRules(
  errors: Finding[],
  warnings: Finding[],
  path: string,
  values: { interval: number | undefined; warn: number | undefined; error: number | undefined },
  entry?: {
    interval?: number | undefined;
    alarm?: { warn?: number | undefined; error?: number | undefined } | undefined;
  },
): void {
  const { interval, warn, error } = values;
  const own = (key: 'interval' | 'warn' | 'error') =>
    !entry || (key === 'interval' ? entry.interval !== undefined : entry.alarm?.[key] !== undefined);
  const errorName = entry ? 'the alarm error for these tables' : 'repair.alarm.error';
  const warnPath = entry ? `${path}.alarm.warn` : 'repair.alarm.warn';
  const intervalPath = `${path}.interval`;
  if (warn !== undefined && error !== undefined && warn >= error && (own('warn') || own('error'))) {
    errors.push({ path: warnPath, message: `must be shorter than ${errorName} (${d(warn)} >= ${d(error)})` });
  }
  if (interval !== undefined && error !== undefined && interval >= error && (own('interval') || own('error'))) {
    errors.push({
      path: intervalPath,
      message: `must be shorter than ${errorName} (${d(interval)} >= ${d(error)}), or every table alarms`,
    });
  } else if (interval !== undefined && warn !== undefined && interval >= warn && (own('interval') || own('warn'))) {
    warnings.push({
      path: intervalPath,
      message: `is not shorter than ${entry ? 'the alarm warn for these tables' : 'repair.alarm.warn'} (${d(interval)} >= ${d(warn)}); tables warn before they are due`,
    });
  }
}

export function crossFieldFindings(config: Partial, env: Env): RuleFindings {
  const findings = { errors: [] as Finding[], warnings: [] as Finding[] };
  const { cassandra, node, nodes, repair, schedule, lease, executor } = config;
  if (cassandra) cassandraFindings(findings, cassandra, nodes ? undefined : node, env);
  if (nodes) nodesFindings(findings, nodes, node, executor);
  if (node && node.hostId && node.address) {
    findings.errors.push({ path: 'node', message: 'set hostId or address, not both' });
  }
  if (repair) {
    repairFindings(findings, repair);
    repairTablesFindings(findings, repair);
  }
  if (schedule) scheduleFindings(findings, schedule);
  if (schedule) parallelTasksFindings(findings, schedule, nodes, lease);
  if (schedule?.coverageTtl !== undefined && repair) coverageTtlFindings(findings, schedule, repair);
  if (lease) {
    leaseTimingFindings(findings, lease);
    consulFindings(findings, lease, env);
  }
  if (executor) executorFindings(findings, executor, env);
  return findings;
}

type Findings = { readonly errors: Finding[]; readonly warnings: Finding[] };
type Section<K extends keyof Partial> = NonNullable<Partial[K]>;

function cassandraFindings(
  { errors, warnings }: Findings,
  cassandra: Section<'cassandra'>,
  node: Partial['node'],
  env: Env,
): void {
  firstContactPoint(errors, cassandra, node);
  tlsPairs(errors, 'cassandra.tls', cassandra.tls);
  unverifiedTls(warnings, 'cassandra.tls', cassandra.tls);
  if (cassandra.auth && !cassandra.auth.passwordFile && !env[SECRET_ENV.cassandraPassword]) {
    warnings.push({
      path: 'cassandra.auth.passwordFile',
      message: `not set and ${SECRET_ENV.cassandraPassword} is empty; connecting will fail authentication`,
    });
  }
  if (cassandra.replication && cassandra.localDatacenter && !(cassandra.localDatacenter in cassandra.replication)) {
    warnings.push({
      path: 'cassandra.replication',
      message: `has no replicas in localDatacenter ${cassandra.localDatacenter}`,
    });
  }
}

/** The interval, alarms, backoff and lookback against each other, for the values that are set. */
function repairFindings({ errors, warnings }: Findings, repair: Section<'repair'>): void {
  const { interval, alarm } = repair;
  // Unset schedule values follow each table's gc_grace_seconds (tables.ts); only what is set here can be
  // checked without the schema. What needs the schema is checked when a command plans (plan-input.ts).
  scheduleRules(errors, warnings, 'repair', { interval, warn: alarm.warn, error: alarm.error });
  if (alarm.error !== undefined && alarm.error > DEFAULT_GC_GRACE_MS) {
    warnings.push({
      path: 'repair.alarm.error',
      message: `${d(alarm.error)} is beyond the default gc_grace_seconds (10d) and applies to every table; leave it unset to alarm at each table's gc_grace_seconds`,
    });
  }
  if (repair.retry.initialBackoff > repair.retry.maxBackoff) {
    errors.push({
      path: 'repair.retry.initialBackoff',
      message: `must not exceed repair.retry.maxBackoff (${d(repair.retry.initialBackoff)} > ${d(repair.retry.maxBackoff)})`,
    });
  }
  if (alarm.error !== undefined && repair.historyLookback < alarm.error) {
    errors.push({
      path: 'repair.historyLookback',
      message: `must be at least repair.alarm.error (${d(repair.historyLookback)} < ${d(alarm.error)}), or late tables look never repaired`,
    });
  }
  if (interval !== undefined && repair.historyLookback <= interval) {
    errors.push({
      path: 'repair.historyLookback',
      message: `must be longer than repair.interval (${d(repair.historyLookback)} <= ${d(interval)}): a range never repaired counts as repaired historyLookback ago, and would never come due`,
    });
  }
}

/** repair.tables: no duplicate match, and each override's effective interval and alarms in order. */
function repairTablesFindings({ errors }: Findings, repair: Section<'repair'>): void {
  const { interval, alarm } = repair;
  const seen = new Map<string, number>();
  repair.tables.forEach((override, index) => {
    const path = `repair.tables[${index}]`;
    const first = seen.get(override.match);
    if (first !== undefined) {
      errors.push({
        path: `${path}.match`,
        message: `duplicates repair.tables[${first}] ("${override.match}"); only the first would apply`,
      });
    } else {
      seen.set(override.match, index);
    }
    if (!override.enabled) return;
    // What the entry sets, completed by the repair section; shares of the error alarm stay in order by design.
    scheduleRules(
      errors,
      [],
      path,
      {
        interval: override.interval ?? interval,
        warn: override.alarm?.warn ?? alarm.warn,
        error: override.alarm?.error ?? alarm.error,
      },
      override,
    );
  });
}

function scheduleFindings({ errors }: Findings, schedule: Section<'schedule'>): void {
  schedule.windows.forEach((window, index) => {
    if (window.start === window.end) {
      errors.push({
        path: `schedule.windows[${index}].end`,
        message: `equals start (${window.start}); a window must have a length`,
      });
    }
  });
}

/**
 * schedule.parallelTasks runs a group tick's disjoint tasks at once. A per-node tick has none: every task it plans
 * includes its own node as a replica, so the key would promise what cannot happen; refused rather than ignored.
 */
function parallelTasksFindings(
  { errors, warnings }: Findings,
  schedule: Section<'schedule'>,
  nodes: Partial['nodes'],
  lease: Partial['lease'],
): void {
  if (schedule.parallelTasks <= 1) return;
  if (!nodes) {
    errors.push({
      path: 'schedule.parallelTasks',
      message: `must be 1 when tend acts for one node (node:, not nodes:): every task of the node's own tick includes that node as a replica, so no two tasks are disjoint and none could run together (got ${schedule.parallelTasks})`,
    });
    return;
  }
  if (lease?.scope === 'datacenter' && lease.slotsPerDatacenter < schedule.parallelTasks) {
    warnings.push({
      path: 'schedule.parallelTasks',
      message: `with lease.scope datacenter each task takes its own slot: at most lease.slotsPerDatacenter (${lease.slotsPerDatacenter}) tasks run at once in one datacenter; ${schedule.parallelTasks} run at once only across datacenters (or use lease.scope node)`,
    });
  }
}

/** A claim shorter than a healthy tick (it refreshes at its start and end) lapses while the tick runs. */
function coverageTtlFindings({ warnings }: Findings, schedule: Section<'schedule'>, repair: Section<'repair'>): void {
  const longest = schedule.maxDuration + repair.taskTimeout;
  if (schedule.coverageTtl !== undefined && schedule.coverageTtl < longest) {
    warnings.push({
      path: 'schedule.coverageTtl',
      message: `is shorter than the longest healthy tick (schedule.maxDuration + repair.taskTimeout = ${d(longest)}): while a tick runs longer than ${d(schedule.coverageTtl)}, its node(s) show uncovered elsewhere`,
    });
  }
}

function leaseTimingFindings({ errors, warnings }: Findings, lease: Section<'lease'>): void {
  if (lease.renewEvery >= lease.ttl) {
    errors.push({
      path: 'lease.renewEvery',
      message: `must be shorter than lease.ttl (${d(lease.renewEvery)} >= ${d(lease.ttl)}), or leases expire between renewals`,
    });
  } else if (lease.renewEvery * 2 > lease.ttl) {
    warnings.push({
      path: 'lease.renewEvery',
      message: `is more than half of lease.ttl; one slow renewal loses the lease`,
    });
  }
}

function consulFindings({ errors, warnings }: Findings, lease: Section<'lease'>, env: Env): void {
  if (lease.backend === 'consul') {
    // Consul's own session TTL limits are 10s..24h; the schema bounds lease.ttl to 10s..1d already. Why the
    // session TTL is half the lease ttl: src/core/consul-ttl.ts.
    if (consulSessionTtlMs(lease.ttl) < CONSUL_MIN_SESSION_TTL_MS) {
      errors.push({
        path: 'lease.ttl',
        message: `must be at least 20s with the consul backend: tend asks Consul for a session TTL of half the lease ttl, and Consul's minimum is 10s (found ${d(lease.ttl)})`,
      });
    }
    if (consulSessionTtlMs(lease.announcementTtl) < CONSUL_MIN_SESSION_TTL_MS) {
      errors.push({
        path: 'lease.announcementTtl',
        message: `must be at least 20s with the consul backend: an announcement is a Consul session of half this ttl, and Consul's minimum is 10s (found ${d(lease.announcementTtl)})`,
      });
    }
    if (lease.renewEvery >= consulSessionTtlMs(lease.ttl) && lease.renewEvery < lease.ttl) {
      errors.push({
        path: 'lease.renewEvery',
        message: `must be shorter than half of lease.ttl with the consul backend (${d(lease.renewEvery)} >= ${d(consulSessionTtlMs(lease.ttl))}): the holder counts only on Consul's session TTL, ttl/2`,
      });
    }
  }
  tlsPairs(errors, 'lease.consul.tls', lease.consul.tls);
  if (lease.consul.tls && lease.consul.address.startsWith('http:')) {
    warnings.push({ path: 'lease.consul.address', message: 'uses http:// although lease.consul.tls is set' });
  }
  if (lease.backend === 'consul') {
    unverifiedTls(warnings, 'lease.consul.tls', lease.consul.tls);
    if (lease.consul.tokenFile || env[SECRET_ENV.consulToken]) {
      cleartext(
        warnings,
        'lease.consul.address',
        lease.consul.address,
        'the Consul ACL token',
        'use https (lease.consul.tls)',
      );
    }
  }
}

function executorFindings({ errors, warnings }: Findings, executor: Section<'executor'>, env: Env): void {
  const { nodetool, jolokia } = executor;
  if (nodetool.user && !nodetool.passwordFile) {
    errors.push({
      path: 'executor.nodetool.passwordFile',
      message: 'required when executor.nodetool.user is set (nodetool reads it with -pwf)',
    });
  }
  if (nodetool.passwordFile && !nodetool.user) {
    errors.push({ path: 'executor.nodetool.user', message: 'required when executor.nodetool.passwordFile is set' });
  }
  tlsPairs(errors, 'executor.jolokia.tls', jolokia.tls);
  if (jolokia.tls && jolokia.url.startsWith('http:')) {
    errors.push({ path: 'executor.jolokia.url', message: 'must be https:// when executor.jolokia.tls is set' });
  }
  if (executor.type === 'jolokia' && jolokia.user && !jolokia.passwordFile && !env[SECRET_ENV.jolokiaPassword]) {
    warnings.push({
      path: 'executor.jolokia.passwordFile',
      message: `not set and ${SECRET_ENV.jolokiaPassword} is empty; Jolokia will reject the requests`,
    });
  }
  if (executor.type === 'jolokia') {
    unverifiedTls(warnings, 'executor.jolokia.tls', jolokia.tls);
    if (jolokia.user) {
      cleartext(
        warnings,
        'executor.jolokia.url',
        jolokia.url,
        'the Jolokia user and password (basic auth)',
        'use https (executor.jolokia.tls)',
      );
    }
  }
}

/**
 * `nodes:` (a group of nodes) against `node:` (one node) and itself: the overlaps one file can show. Exactly one
 * kind of scope, each entry once, one endpoint per node: two nodes sent to one Jolokia agent would repair the same
 * node twice and the other never.
 */
function nodesFindings(
  { errors, warnings }: Findings,
  nodes: Section<'nodes'>,
  node: Partial['node'],
  executor: Partial['executor'],
): void {
  if (node && (node.hostId || node.address || node.name)) {
    errors.push({
      path: 'nodes',
      message: 'set node (tend acts for one node) or nodes (a group of nodes), not both',
    });
  }
  const kinds = (['datacenters', 'racks', 'hosts'] as const).filter((kind) => (nodes[kind]?.length ?? 0) > 0);
  if (kinds.length !== 1) {
    errors.push({
      path: 'nodes',
      message:
        kinds.length === 0
          ? 'list the nodes to act for: one of datacenters, racks or hosts'
          : `set one of datacenters, racks or hosts, not ${kinds.join(' and ')}`,
    });
  }
  for (const kind of ['datacenters', 'racks', 'hosts'] as const) {
    const seen = new Map<string, number>();
    (nodes[kind] ?? []).forEach((entry, index) => {
      const key = kind === 'hosts' ? entry.toLowerCase() : entry;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, index);
      else errors.push({ path: `nodes.${kind}[${index}]`, message: `duplicates nodes.${kind}[${first}] (${entry})` });
    });
  }
  const byUrl = new Map<string, string>();
  const byJmx = new Map<string, string>();
  for (const [key, endpoint] of Object.entries(nodes.endpoints)) {
    if (endpoint.jolokiaUrl) {
      const other = byUrl.get(endpoint.jolokiaUrl);
      if (other !== undefined) {
        errors.push({
          path: `nodes.endpoints.${key}.jolokiaUrl`,
          message: `is the same agent as nodes.endpoints.${other}: one agent repairs one node`,
        });
      } else byUrl.set(endpoint.jolokiaUrl, key);
    }
    if (endpoint.nodetoolHost && !endpoint.nodetoolHost.includes('{address}')) {
      const jmx = `${endpoint.nodetoolHost}:${endpoint.nodetoolPort ?? executor?.nodetool.port ?? 7199}`;
      const other = byJmx.get(jmx);
      if (other !== undefined) {
        errors.push({
          path: `nodes.endpoints.${key}.nodetoolHost`,
          message: `is the same JMX endpoint (${jmx}) as nodes.endpoints.${other}: one JMX port repairs one node`,
        });
      } else byJmx.set(jmx, key);
    }
  }
  if (nodes.hosts?.length) {
    const listed = new Set(nodes.hosts.map((host) => host.toLowerCase()));
    for (const key of Object.keys(nodes.endpoints)) {
      if (!listed.has(key.toLowerCase())) {
        warnings.push({ path: `nodes.endpoints.${key}`, message: 'names a node that nodes.hosts does not list' });
      }
    }
  }
  if (nodes.nodetoolHost && !nodes.nodetoolHost.includes('{address}')) {
    errors.push({
      path: 'nodes.nodetoolHost',
      message: `has no {address}: every node would be repaired through one JMX endpoint (${nodes.nodetoolHost})`,
    });
  }
  if (executor?.type === 'jolokia' && executor.jolokia.user) {
    const urls: [string, string | undefined][] = [
      ['nodes.jolokiaUrl', nodes.jolokiaUrl],
      ...Object.entries(nodes.endpoints).map(([key, e]): [string, string | undefined] => [
        `nodes.endpoints.${key}.jolokiaUrl`,
        e.jolokiaUrl,
      ]),
    ];
    for (const [path, url] of urls) {
      if (url?.startsWith('http:')) {
        warnings.push({
          path,
          message:
            'sends the Jolokia user and password (basic auth) in clear text over http to every node; use https (executor.jolokia.tls)',
        });
      }
    }
  }
}
