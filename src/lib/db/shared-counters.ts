import { createHash } from 'node:crypto';
import { inTransaction, type Database } from './database.ts';

/**
 * Counters every process on one PostgreSQL database shares: rate-limiter-flexible's table
 * (key, points, expire), used by the per-minute request limits (http/rate-limits.ts) and the
 * alert cooldown (notify/shared-cooldown.ts). Made at start rather than by a migration: its
 * layout is the library's, and SQLite (one process) has no use for it.
 */
export const SHARED_COUNTERS_TABLE = 'rate_limit_counters';

/** Longest key the table takes (the library puts its prefix, e.g. `payment-check:`, before ours). */
export const SHARED_COUNTER_KEY_MAX = 255;
const OWN_KEY_MAX = 200;

/** The key as given when short, else its SHA-256: a key from a header or an error text may be of any length. */
export function sharedCounterKey(raw: string): string {
  return raw.length <= OWN_KEY_MAX ? raw : `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

/**
 * Creates the table if it is missing. In a transaction, so under the lock every Beem
 * transaction takes (postgres.ts): processes starting together do not race on CREATE TABLE,
 * which PostgreSQL does not make safe by itself.
 */
export async function prepareSharedCounters(db: Database): Promise<void> {
  await inTransaction(db, (tx) =>
    tx.run(
      `CREATE TABLE IF NOT EXISTS ${SHARED_COUNTERS_TABLE} (key VARCHAR(${SHARED_COUNTER_KEY_MAX}) PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire BIGINT)`,
    ),
  );
}
