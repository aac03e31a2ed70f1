import type { Database } from '../db/database.ts';
import { findLedgerMismatches } from '../billing/ledger.ts';
import { recentAlerts, type AlertRecord } from '../notify/alert-log.ts';
import { GENERATION_STATUSES, type GenerationStatus } from '../model.ts';

/**
 * The figures an operator checks first (DESIGN.md §2, spec "Troubleshooting"): what the
 * queue is doing, what failed and where, what came in, and whether every balance still
 * equals its ledger. Read-only, computed from the tables on each call.
 */

export type StatusCounts = Record<GenerationStatus, number>;

/** Business days are Moscow days (UTC+3 all year since 2014). */
export const BUSINESS_UTC_OFFSET_MS = 3 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
export const STALE_PAYMENT_AFTER_MS = 60 * 60 * 1000;

/** Midnight of the Moscow day that contains `now`, as epoch milliseconds. */
export function startOfBusinessDay(now: number): number {
  return Math.floor((now + BUSINESS_UTC_OFFSET_MS) / DAY_MS) * DAY_MS - BUSINESS_UTC_OFFSET_MS;
}

export interface Dashboard {
  now: number;
  dayStart: number;
  generations: { today: StatusCounts; total: StatusCounts };
  queue: {
    queued: number;
    /** Accepted by MiniMax and not finished (the in-flight cap counts these). */
    inFlight: number;
    processing: number;
    /** Milliseconds; null when nothing waits. */
    oldestQueuedAgeMs: number | null;
    oldestProcessingAgeMs: number | null;
  };
  /** Failed generations of the last 24 h by `error_stage` (biggest first). */
  failuresLast24h: Array<{ stage: string; count: number }>;
  revenue: { todayKopecks: number; totalKopecks: number; paymentsToday: number; paymentsTotal: number };
  credits: {
    sold: number;
    /** Holds that became final (successful videos). */
    spent: number;
    /** Held right now by live generations. */
    held: number;
    refunded: number;
    trial: number;
    adminNet: number;
  };
  ledgerMismatches: number;
  stalePendingPayments: number;
  /** Paid at YooKassa but not credited (a mismatch an admin must settle). */
  paymentsNeedingReview: number;
  /** Open payments YooKassa answers 404 for (resolved by hand, never automatically). */
  paymentsUnknown: number;
  recentAlerts: AlertRecord[];
}

async function countByStatus(db: Database, since: number | null): Promise<StatusCounts> {
  const counts: StatusCounts = { queued: 0, processing: 0, success: 0, failed: 0 };
  type Count = { status: keyof StatusCounts; n: number };
  const rows =
    since === null
      ? await db.all<Count>('SELECT status, COUNT(*) AS n FROM generations GROUP BY status')
      : await db.all<Count>('SELECT status, COUNT(*) AS n FROM generations WHERE createdAt >= ? GROUP BY status', [since]);
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}

export async function getDashboard(db: Database, now: number, options: { alerts?: number } = {}): Promise<Dashboard> {
  const dayStart = startOfBusinessDay(now);
  const one = async <T>(sql: string, ...params: unknown[]): Promise<T> => (await db.value<T>(sql, params)) as T;

  const oldestQueued = await one<number | null>(`SELECT MIN(createdAt) FROM generations WHERE status = 'queued'`);
  const oldestProcessing = await one<number | null>(
    `SELECT MIN(COALESCE(submittedAt, createdAt)) FROM generations WHERE status = 'processing'`,
  );
  const failures = await db.all<{ stage: string; count: number }>(
    `SELECT COALESCE(error_stage, 'UNKNOWN') AS stage, COUNT(*) AS count FROM generations
     WHERE status = 'failed' AND COALESCE(completedAt, updatedAt) >= ?
     GROUP BY COALESCE(error_stage, 'UNKNOWN') ORDER BY count DESC, stage`,
    [now - DAY_MS],
  );

  // Money received: succeeded payments, dated by when they were credited (or last seen).
  const revenue = (await db.get<{ total: number; n: number; today: number; nToday: number }>(
    `SELECT COALESCE(SUM(amount_kopecks), 0) AS total, COUNT(*) AS n,
            COALESCE(SUM(CASE WHEN COALESCE(appliedAt, updatedAt) >= @day THEN amount_kopecks END), 0) AS today,
            COUNT(CASE WHEN COALESCE(appliedAt, updatedAt) >= @day THEN 1 END) AS nToday
     FROM payments WHERE status = 'succeeded'`,
    { day: dayStart },
  ))!;

  const ledger = Object.fromEntries(
    (await db.all<{ kind: string; sum: number }>('SELECT kind, COALESCE(SUM(delta), 0) AS sum FROM credit_ledger GROUP BY kind')).map(
      (r) => [r.kind, r.sum],
    ),
  ) as Record<string, number>;

  return {
    now,
    dayStart,
    generations: { today: await countByStatus(db, dayStart), total: await countByStatus(db, null) },
    queue: {
      queued: await one<number>(`SELECT COUNT(*) FROM generations WHERE status = 'queued'`),
      inFlight: await one<number>(`SELECT COUNT(*) FROM generations WHERE status = 'processing' AND step = 'poll'`),
      processing: await one<number>(`SELECT COUNT(*) FROM generations WHERE status = 'processing'`),
      oldestQueuedAgeMs: oldestQueued === null ? null : Math.max(0, now - oldestQueued),
      oldestProcessingAgeMs: oldestProcessing === null ? null : Math.max(0, now - oldestProcessing),
    },
    failuresLast24h: failures,
    revenue: { todayKopecks: revenue.today, totalKopecks: revenue.total, paymentsToday: revenue.nToday, paymentsTotal: revenue.n },
    credits: {
      sold: ledger.payment ?? 0,
      spent: await one<number>('SELECT COALESCE(SUM(cost), 0) FROM generations WHERE charged = 1'),
      held: await one<number>(
        `SELECT COALESCE(SUM(cost), 0) FROM generations WHERE status IN ('queued', 'processing') AND charged = 0 AND refunded = 0`,
      ),
      refunded: ledger.refund ?? 0,
      trial: ledger.trial ?? 0,
      adminNet: ledger.admin_adjustment ?? 0,
    },
    ledgerMismatches: (await findLedgerMismatches(db)).length,
    stalePendingPayments: await one<number>(
      `SELECT COUNT(*) FROM payments WHERE status IN ('pending', 'waiting_for_capture') AND createdAt < ?`,
      now - STALE_PAYMENT_AFTER_MS,
    ),
    paymentsNeedingReview: await one<number>(`SELECT COUNT(*) FROM payments WHERE status = 'succeeded' AND applied = 0`),
    paymentsUnknown: await one<number>(
      `SELECT COUNT(*) FROM payments WHERE status IN ('pending', 'waiting_for_capture') AND unknown_since IS NOT NULL`,
    ),
    recentAlerts: await recentAlerts(db, options.alerts ?? 10),
  };
}
