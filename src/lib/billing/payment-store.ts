import type { Database } from '../db/database.ts';
import { readRow } from '../db/row.ts';
import { PAYMENT_STATUSES, type PaymentStatus } from '../model.ts';
import { RECONCILE_WINDOW_MS } from './payment-rules.ts';

/**
 * The payments table: the row type and the queries that read it. The writes live with the
 * verb that makes them (start-payment.ts, apply-payment.ts, reconciler.ts), each guarded by
 * the row's current state.
 */

export interface Payment {
  id: string;
  userId: string;
  externalPaymentId: string | null;
  amountKopecks: number;
  credits: number;
  currency: string;
  status: PaymentStatus;
  plan: string;
  idempotenceKey: string;
  confirmationUrl: string | null;
  applied: boolean;
  appliedAt: number | null;
  cancellationParty: string | null;
  cancellationReason: string | null;
  lastError: string | null;
  lastCheckedAt: number | null;
  /** When YooKassa first answered 404 for it (null: YooKassa knows it, or was never asked). */
  unknownSince: number | null;
  /** How many checks in a row YooKassa answered 404. */
  unknownChecks: number;
  /** An unknown payment is not asked about again before this time. */
  nextCheckAt: number | null;
  createdAt: number;
  updatedAt: number;
}

const PAYMENT_COLUMNS = `id, userId, externalPaymentId, amount_kopecks, credits, currency, status, plan, idempotence_key,
  confirmation_url, applied, appliedAt, cancellation_party, cancellation_reason, last_error, lastCheckedAt,
  unknown_since, unknown_checks, next_check_at, createdAt, updatedAt`;

/** The one mapper of `payments` rows (PAYMENT_COLUMNS). */
function rowToPayment(row: Record<string, unknown>): Payment {
  const r = readRow('payments', row);
  return {
    id: r.text('id'),
    userId: r.text('userId'),
    externalPaymentId: r.textOrNull('externalPaymentId'),
    amountKopecks: r.int('amount_kopecks'),
    credits: r.int('credits'),
    currency: r.text('currency'),
    status: r.oneOf('status', PAYMENT_STATUSES),
    plan: r.text('plan'),
    idempotenceKey: r.text('idempotence_key'),
    confirmationUrl: r.textOrNull('confirmation_url'),
    applied: r.flag('applied'),
    appliedAt: r.intOrNull('appliedAt'),
    cancellationParty: r.textOrNull('cancellation_party'),
    cancellationReason: r.textOrNull('cancellation_reason'),
    lastError: r.textOrNull('last_error'),
    lastCheckedAt: r.intOrNull('lastCheckedAt'),
    unknownSince: r.intOrNull('unknown_since'),
    unknownChecks: r.int('unknown_checks'),
    nextCheckAt: r.intOrNull('next_check_at'),
    createdAt: r.int('createdAt'),
    updatedAt: r.int('updatedAt'),
  };
}

export async function getPayment(db: Database, id: string): Promise<Payment | null> {
  const row = await db.get<Record<string, unknown>>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`, [id]);
  return row ? rowToPayment(row) : null;
}

export async function findPaymentByExternalId(db: Database, externalPaymentId: string): Promise<Payment | null> {
  const row = await db.get<Record<string, unknown>>(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE externalPaymentId = ?`, [
    externalPaymentId,
  ]);
  return row ? rowToPayment(row) : null;
}

export async function listUserPayments(db: Database, userId: string, limit = 50): Promise<Payment[]> {
  const rows = await db.all<Record<string, unknown>>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE userId = ? ORDER BY createdAt DESC, rowid DESC LIMIT ?`,
    [userId, limit],
  );
  return rows.map(rowToPayment);
}

/** Payments still open after the reconciliation window: an admin has to look at them. */
export async function listStalePendingPayments(db: Database, now: number): Promise<Payment[]> {
  const rows = await db.all<Record<string, unknown>>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments
     WHERE status IN ('pending', 'waiting_for_capture') AND createdAt < ? ORDER BY createdAt`,
    [now - RECONCILE_WINDOW_MS],
  );
  return rows.map(rowToPayment);
}

/** Paid at YooKassa but not credited (amount, currency or metadata did not match): an admin decides. */
export async function listPaymentsNeedingReview(db: Database): Promise<Payment[]> {
  const rows = await db.all<Record<string, unknown>>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE status = 'succeeded' AND applied = 0 ORDER BY createdAt`,
  );
  return rows.map(rowToPayment);
}

/** Open payments younger than the reconciliation window whose next check is due. */
export async function listPaymentsDueForCheck(db: Database, now: number): Promise<Payment[]> {
  const rows = await db.all<Record<string, unknown>>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments
     WHERE status IN ('pending', 'waiting_for_capture') AND externalPaymentId IS NOT NULL AND createdAt >= ?
       AND (next_check_at IS NULL OR next_check_at <= ?)
     ORDER BY createdAt`,
    [now - RECONCILE_WINDOW_MS, now],
  );
  return rows.map(rowToPayment);
}
