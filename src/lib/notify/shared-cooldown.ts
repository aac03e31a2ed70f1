import type pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { SHARED_COUNTERS_TABLE, sharedCounterKey } from '../db/shared-counters.ts';

/**
 * The alert cooldown across processes: the first process to claim a `stage::error` sends it, the
 * others within the cooldown record theirs as suppressed. One row per key in the shared counters'
 * table, claimed by an atomic upsert (the table exists: prepareSharedCounters).
 */
export interface SharedCooldown {
  /** True when this process may send `key` now; false when another sent it within the cooldown. Rejects when the store fails. */
  claim(key: string): Promise<boolean>;
}

export function createSharedCooldown(options: { pool: pg.Pool; cooldownMs: number }): SharedCooldown {
  const limiter = new RateLimiterPostgres({
    storeClient: options.pool,
    storeType: 'pool',
    tableName: SHARED_COUNTERS_TABLE,
    tableCreated: true,
    keyPrefix: 'alert',
    points: 1,
    duration: Math.max(1, Math.ceil(options.cooldownMs / 1000)),
  });
  return {
    async claim(key) {
      try {
        await limiter.consume(sharedCounterKey(key));
        return true;
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return false;
        throw rejection;
      }
    },
  };
}
