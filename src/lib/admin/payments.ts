import type { Database } from '../db/database.ts';
import { notFound } from '../errors.ts';
import { checkPayment } from '../billing/apply-payment.ts';
import type { BillingDeps } from '../billing/billing-deps.ts';
import { getPayment, type Payment } from '../billing/payment-store.ts';
import { paymentState, type PaymentState } from '../billing/payment-rules.ts';
import { OPEN_PAYMENT_STATUSES, type PaymentStatus } from '../model.ts';
import { recordAdminAction, type Actor } from './audit.ts';
import { likePattern } from './users.ts';
import { STALE_PAYMENT_AFTER_MS } from './dashboard.ts';

/**
 * Payments as admins see them, and the re-check against YooKassa. The re-check is the
 * billing service's own `checkPayment` (a fetch-back from YooKassa, credited at most once),
 * asked on the owner's behalf.
 */

export interface AdminPaymentLine {
  id: string;
  userId: string;
  userEmail: string;
  externalPaymentId: string | null;
  status: PaymentStatus;
  state: PaymentState;
  plan: string;
  amountKopecks: number;
  credits: number;
  applied: boolean;
  lastError: string | null;
  lastCheckedAt: number | null;
  createdAt: number;
  /** Still open an hour after it was created: the buyer may be waiting for credits. */
  stale: boolean;
  /** YooKassa answered 404 for it: resolve by hand (it is never closed or credited automatically). */
  unknownAtProvider: boolean;
}

export interface PaymentFilter {
  status?: PaymentStatus | null;
  /** Email, payment id, YooKassa id or user id (a substring of the email). */
  query?: string | null;
  onlyStale?: boolean;
  /** Paid at YooKassa but not credited. */
  onlyReview?: boolean;
  /** Open, and YooKassa answers 404 for it. */
  onlyUnknown?: boolean;
  limit?: number;
  offset?: number;
}

export async function listPayments(
  db: Database,
  now: number,
  filter: PaymentFilter = {},
): Promise<{ payments: AdminPaymentLine[]; total: number }> {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.status) {
    where.push('p.status = @status');
    params.status = filter.status;
  }
  const query = filter.query?.trim();
  if (query) {
    where.push(`(lower(u.email) LIKE @q ESCAPE '\\' OR p.id = @exact OR p.externalPaymentId = @exact OR p.userId = @exact)`);
    params.q = likePattern(query.toLowerCase());
    params.exact = query;
  }
  if (filter.onlyStale) {
    where.push(`p.status IN ('pending', 'waiting_for_capture') AND p.createdAt < @staleBefore`);
    params.staleBefore = now - STALE_PAYMENT_AFTER_MS;
  }
  if (filter.onlyReview) where.push(`p.status = 'succeeded' AND p.applied = 0`);
  if (filter.onlyUnknown) where.push(`p.status IN ('pending', 'waiting_for_capture') AND p.unknown_since IS NOT NULL`);
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = (await db.value<number>(`SELECT COUNT(*) FROM payments p JOIN users u ON u.id = p.userId ${clause}`, params))!;
  const rows = await db.all<{ id: string }>(
    `SELECT p.id FROM payments p JOIN users u ON u.id = p.userId ${clause}
     ORDER BY p.createdAt DESC, p.rowid DESC LIMIT @limit OFFSET @offset`,
    { ...params, limit: Math.max(1, Math.min(filter.limit ?? 100, 500)), offset: Math.max(0, filter.offset ?? 0) },
  );
  const payments = await Promise.all(
    rows.map(async ({ id }) => {
      const p = (await getPayment(db, id))!;
      return toLine(p, (await db.value<string>('SELECT email FROM users WHERE id = ?', [p.userId]))!, now);
    }),
  );
  return { payments, total };
}

function toLine(p: Payment, email: string, now: number): AdminPaymentLine {
  return {
    id: p.id,
    userId: p.userId,
    userEmail: email,
    externalPaymentId: p.externalPaymentId,
    status: p.status,
    state: paymentState(p, now),
    plan: p.plan,
    amountKopecks: p.amountKopecks,
    credits: p.credits,
    applied: p.applied,
    lastError: p.lastError,
    lastCheckedAt: p.lastCheckedAt,
    createdAt: p.createdAt,
    stale: OPEN_PAYMENT_STATUSES.includes(p.status) && p.createdAt < now - STALE_PAYMENT_AFTER_MS,
    unknownAtProvider: OPEN_PAYMENT_STATUSES.includes(p.status) && p.unknownSince !== null,
  };
}

export interface RecheckResult {
  paymentId: string;
  statusBefore: PaymentStatus;
  status: PaymentStatus;
  appliedBefore: boolean;
  applied: boolean;
  auditId: number;
}

/**
 * Re-reads one payment from YooKassa and applies what it says (credits at most once).
 * A final payment is answered from the database: YooKassa never changes it again.
 */
export async function recheckPayment(ctx: BillingDeps, input: { paymentId: string; actor: Actor }): Promise<RecheckResult> {
  const before = await getPayment(ctx.db, input.paymentId);
  if (!before) throw notFound('PAYMENT_NOT_FOUND');
  const { payment } = await checkPayment(ctx, { userId: before.userId, paymentId: before.id, force: true });
  const auditId = await recordAdminAction(ctx.db, {
    actor: input.actor,
    action: 'payment.recheck',
    targetType: 'payment',
    targetId: payment.id,
    detail: {
      externalPaymentId: payment.externalPaymentId,
      statusBefore: before.status,
      status: payment.status,
      credited: !before.applied && payment.applied,
    },
    now: ctx.clock.now(),
  });
  return {
    paymentId: payment.id,
    statusBefore: before.status,
    status: payment.status,
    appliedBefore: before.applied,
    applied: payment.applied,
    auditId,
  };
}

export interface RecheckReport {
  checked: number;
  changed: number;
  credited: number;
  stillOpen: number;
  failed: number;
}

/**
 * `payments:recheck`: every open payment that has a YooKassa id, however old (the
 * background reconciliation stops after a day; this is what an admin runs after that).
 */
export async function recheckOpenPayments(ctx: BillingDeps, input: { actor: Actor }): Promise<RecheckReport> {
  const ids = (
    await ctx.db.all<{ id: string }>(
      `SELECT id FROM payments WHERE status IN ('pending', 'waiting_for_capture') AND externalPaymentId IS NOT NULL ORDER BY createdAt`,
    )
  ).map((r) => r.id);
  const report: RecheckReport = { checked: 0, changed: 0, credited: 0, stillOpen: 0, failed: 0 };
  for (const id of ids) {
    const before = (await getPayment(ctx.db, id))!;
    report.checked += 1;
    try {
      const { payment } = await checkPayment(ctx, { userId: before.userId, paymentId: id, force: true });
      if (payment.status !== before.status) report.changed += 1;
      if (payment.applied && !before.applied) report.credited += 1;
      if (OPEN_PAYMENT_STATUSES.includes(payment.status)) report.stillOpen += 1;
    } catch (err) {
      report.failed += 1;
      ctx.log.warn({ mod: 'admin', paymentId: id, err }, 'payment re-check failed');
    }
  }
  await recordAdminAction(ctx.db, {
    actor: input.actor,
    action: 'payments.recheck_pending',
    targetType: 'system',
    targetId: null,
    detail: { ...report },
    now: ctx.clock.now(),
  });
  return report;
}
