/**
 * How a lease's ttl becomes a Consul session TTL: the one home of the rule that the Consul backend
 * (src/lease/consul.ts) follows and that `config check` (src/config/rules.ts) checks a configuration against.
 *
 * Consul treats a session TTL as a lower bound: it expires a session that is not renewed up to twice its TTL after
 * the last renewal. tend asks for half the lease ttl, so a dead holder's lease is free after about `lease.ttl` (like
 * the Cassandra backend), while the holder itself counts only on the guaranteed half when it decides that its lease
 * may be lost. Consul refuses session TTLs below 10s, hence the smallest Consul lease ttl of 20s.
 */

/** Consul's smallest session TTL (its `session_ttl_min`, 10s by default). */
export const CONSUL_MIN_SESSION_TTL_MS = 10_000;

/** The Consul session TTL tend asks for, for a lease (or an announcement) of `ttlMs`. */
export function consulSessionTtlMs(ttlMs: number): number {
  return Math.max(1000, Math.floor(ttlMs / 2));
}
