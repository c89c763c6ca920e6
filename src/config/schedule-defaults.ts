/**
 * How a table's schedule follows its schema when tend.yml leaves it open (see tables.ts): the error alarm is the
 * table's gc_grace_seconds (past it, a tombstone may be purged on one replica while another never saw the delete,
 * and the row comes back), the warn alarm and the interval are shares of the error alarm. With Cassandra's default
 * gc_grace_seconds of 10 days these give 7d / 8d / 10d, the values tend used before it read gc_grace.
 */

/** interval = 70% of the error alarm: a table comes due with 30% of its gc_grace left for failed repairs to retry. */
export const INTERVAL_SHARE = 0.7;
/** warn = 80% of the error alarm: a table that missed its interval by a tenth of gc_grace warns before it is lost. */
export const ALARM_WARN_SHARE = 0.8;
/** Cassandra's default gc_grace_seconds (10 days), for tables whose gc_grace tend does not know. */
export const DEFAULT_GC_GRACE_MS = 10 * 86_400_000;
/** The interval for a table of the default gc_grace_seconds (7d): `history show --since`'s default when unset. */
export const DEFAULT_INTERVAL_MS = Math.round(DEFAULT_GC_GRACE_MS * INTERVAL_SHARE);
