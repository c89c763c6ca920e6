/**
 * Rules that span several keys. They run on sections that individually passed the schema, so an operator sees
 * every problem in one `config check`, not one per run.
 */
import type { TendConfig } from './schema.js';
import { formatDuration } from './units.js';
import { SECRET_ENV, type Env } from './secrets.js';

export interface Finding {
  path: string;
  message: string;
}

export interface RuleFindings {
  errors: Finding[];
  warnings: Finding[];
}

/** Consul refuses session TTLs outside 10s..24h. */
const CONSUL_MIN_TTL_MS = 10_000;
const CONSUL_MAX_TTL_MS = 86_400_000;
/** Cassandra's default gc_grace_seconds: an error alarm later than this means data may already resurrect. */
const DEFAULT_GC_GRACE_MS = 10 * 86_400_000;

const d = formatDuration;

type Partial = { [K in keyof TendConfig]?: TendConfig[K] };

function tlsPairs(errors: Finding[], path: string, tls: { certFile?: string; keyFile?: string } | undefined): void {
  if (!tls) return;
  if (tls.certFile && !tls.keyFile) errors.push({ path: `${path}.keyFile`, message: 'required when certFile is set' });
  if (tls.keyFile && !tls.certFile) errors.push({ path: `${path}.certFile`, message: 'required when keyFile is set' });
}

export function crossFieldFindings(config: Partial, env: Env): RuleFindings {
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  const { cassandra, node, repair, schedule, lease, executor } = config;

  if (cassandra) {
    tlsPairs(errors, 'cassandra.tls', cassandra.tls);
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

  if (node && node.hostId && node.address) {
    errors.push({ path: 'node', message: 'set hostId or address, not both' });
  }

  if (repair) {
    const { interval, alarm } = repair;
    if (alarm.warn >= alarm.error) {
      errors.push({
        path: 'repair.alarm.warn',
        message: `must be shorter than repair.alarm.error (${d(alarm.warn)} >= ${d(alarm.error)})`,
      });
    }
    if (interval >= alarm.error) {
      errors.push({
        path: 'repair.interval',
        message: `must be shorter than repair.alarm.error (${d(interval)} >= ${d(alarm.error)}), or every table alarms`,
      });
    } else if (interval >= alarm.warn) {
      warnings.push({
        path: 'repair.interval',
        message: `is not shorter than repair.alarm.warn (${d(interval)} >= ${d(alarm.warn)}); tables warn before they are due`,
      });
    }
    if (alarm.error > DEFAULT_GC_GRACE_MS) {
      warnings.push({
        path: 'repair.alarm.error',
        message: `${d(alarm.error)} is beyond the default gc_grace_seconds (10d); make sure your tables' gc_grace_seconds is longer`,
      });
    }
    if (repair.retry.initialBackoff > repair.retry.maxBackoff) {
      errors.push({
        path: 'repair.retry.initialBackoff',
        message: `must not exceed repair.retry.maxBackoff (${d(repair.retry.initialBackoff)} > ${d(repair.retry.maxBackoff)})`,
      });
    }
    if (repair.historyLookback < alarm.error) {
      errors.push({
        path: 'repair.historyLookback',
        message: `must be at least repair.alarm.error (${d(repair.historyLookback)} < ${d(alarm.error)}), or late tables look never repaired`,
      });
    }
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
      const effectiveInterval = override.interval ?? interval;
      const effectiveWarn = override.alarm?.warn ?? alarm.warn;
      const effectiveError = override.alarm?.error ?? alarm.error;
      if (effectiveWarn >= effectiveError) {
        errors.push({
          path: `${path}.alarm.warn`,
          message: `must be shorter than the alarm error for these tables (${d(effectiveWarn)} >= ${d(effectiveError)})`,
        });
      }
      if (override.enabled && effectiveInterval >= effectiveError) {
        errors.push({
          path: `${path}.interval`,
          message: `must be shorter than the alarm error for these tables (${d(effectiveInterval)} >= ${d(effectiveError)})`,
        });
      }
    });
  }

  if (schedule) {
    schedule.windows.forEach((window, index) => {
      if (window.start === window.end) {
        errors.push({
          path: `schedule.windows[${index}].end`,
          message: `equals start (${window.start}); a window must have a length`,
        });
      }
    });
  }

  if (lease) {
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
    if (lease.backend === 'consul') {
      if (lease.ttl < CONSUL_MIN_TTL_MS || lease.ttl > CONSUL_MAX_TTL_MS) {
        errors.push({
          path: 'lease.ttl',
          message: `must be between 10s and 24h with the consul backend (Consul session TTL limits), found ${d(lease.ttl)}`,
        });
      } else if (lease.ttl < 2 * CONSUL_MIN_TTL_MS) {
        // src/lease/consul.ts: Consul expires a session up to 2x its TTL late, so tend asks for ttl/2.
        errors.push({
          path: 'lease.ttl',
          message: `must be at least 20s with the consul backend: tend asks Consul for a session TTL of half the lease ttl, and Consul's minimum is 10s (found ${d(lease.ttl)})`,
        });
      }
      if (lease.renewEvery * 2 >= lease.ttl && lease.renewEvery < lease.ttl) {
        errors.push({
          path: 'lease.renewEvery',
          message: `must be shorter than half of lease.ttl with the consul backend (${d(lease.renewEvery)} >= ${d(lease.ttl / 2)}): the holder counts only on Consul's session TTL, ttl/2`,
        });
      }
    }
    tlsPairs(errors, 'lease.consul.tls', lease.consul.tls);
    if (lease.consul.tls && lease.consul.address.startsWith('http:')) {
      warnings.push({ path: 'lease.consul.address', message: 'uses http:// although lease.consul.tls is set' });
    }
  }

  if (executor) {
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
  }

  return { errors, warnings };
}
