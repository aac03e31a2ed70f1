import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Notifier } from '../notify/types.ts';
import { inTransaction, type Db } from '../db/index.ts';
import { AppError, badRequest, forbidden, notFound } from '../errors.ts';
import { hasMessage, t, type Locale } from '../i18n/index.ts';
import { newId } from '../ids.ts';
import { isYookassaError, type YookassaClient, type YookassaError } from '../providers/yookassa/client.ts';
import {
  notificationSchema,
  type CreatePaymentRequest,
  type YookassaPayment,
} from '../providers/yookassa/schemas.ts';
import { applyCreditChange } from './ledger.ts';
import { ledgerRef, OPEN_PAYMENT_STATUSES, type PaymentStatus } from '../model.ts';
import { findTariff, formatAmount, parseAmount, planAfterPurchase } from './pricing.ts';

/**
 * YooKassa payments (DESIGN.md §2.3, §4). A local row is written first (with the
 * Idempotence-Key of this attempt), then YooKassa is called. Nothing from outside is
 * trusted as is: the webhook and the `check` endpoint both re-read the payment from the
 * API, and whichever path sees `succeeded` first credits the account in one transaction
 * guarded by `applied = 0` and the ledger reference `payment:<id>`; every other path
 * changes nothing.
 */

export interface BillingDeps {
  db: Db;
  config: Config;
  clock: Clock;
  log: Logger;
  yookassa: YookassaClient;
  /** Payment problems page the operator (stage PAYMENT). */
  notifier: Notifier;
}


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

/**
 * What a payment means for the buyer; `review` is a paid payment we refused to credit;
 * `expired` is still open here after YooKassa's time to confirm it ran out: the buyer
 * cancelled on the payment page or left it (YooKassa reports both as `expired_on_confirmation`).
 */
export type PaymentState = 'pending' | 'expired' | 'credited' | 'canceled' | 'failed' | 'review';

/** Pending payments are re-read for this long; older ones are left to admins. */
export const RECONCILE_WINDOW_MS = 24 * 60 * 60 * 1000;
/** A row still without a YooKassa id after this long lost its create call (crash mid-call). */
export const CREATE_ABANDONED_AFTER_MS = 10 * 60 * 1000;
/**
 * How long YooKassa waits for the buyer to confirm before it cancels the payment with
 * `expired_on_confirmation` (reported as about an hour for cards; reference/yookassa-api.md §3).
 */
export const CONFIRMATION_WINDOW_MS = 60 * 60 * 1000;
/** Pauses between checks of a payment YooKassa does not know: 5 min, 10, 20 … at most 6 h. */
export const UNKNOWN_RECHECK_BASE_MS = 5 * 60 * 1000;
export const UNKNOWN_RECHECK_MAX_MS = 6 * 60 * 60 * 1000;

/** The pause after the `checks`-th 404 in a row (1-based). */
export function unknownRecheckDelay(checks: number): number {
  return Math.min(UNKNOWN_RECHECK_MAX_MS, UNKNOWN_RECHECK_BASE_MS * 2 ** Math.max(0, Math.min(checks - 1, 20)));
}

const PAYMENT_COLUMNS = `id, userId, externalPaymentId, amount_kopecks, credits, currency, status, plan, idempotence_key,
  confirmation_url, applied, appliedAt, cancellation_party, cancellation_reason, last_error, lastCheckedAt,
  unknown_since, unknown_checks, next_check_at, createdAt, updatedAt`;

function rowToPayment(row: Record<string, unknown>): Payment {
  return {
    id: row.id as string,
    userId: row.userId as string,
    externalPaymentId: (row.externalPaymentId as string | null) ?? null,
    amountKopecks: row.amount_kopecks as number,
    credits: row.credits as number,
    currency: row.currency as string,
    status: row.status as PaymentStatus,
    plan: row.plan as string,
    idempotenceKey: row.idempotence_key as string,
    confirmationUrl: (row.confirmation_url as string | null) ?? null,
    applied: row.applied === 1,
    appliedAt: (row.appliedAt as number | null) ?? null,
    cancellationParty: (row.cancellation_party as string | null) ?? null,
    cancellationReason: (row.cancellation_reason as string | null) ?? null,
    lastError: (row.last_error as string | null) ?? null,
    lastCheckedAt: (row.lastCheckedAt as number | null) ?? null,
    unknownSince: (row.unknown_since as number | null) ?? null,
    unknownChecks: (row.unknown_checks as number | null) ?? 0,
    nextCheckAt: (row.next_check_at as number | null) ?? null,
    createdAt: row.createdAt as number,
    updatedAt: row.updatedAt as number,
  };
}

export function getPayment(db: Db, id: string): Payment | null {
  const row = db.prepare(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`).get(id) as Record<string, unknown> | undefined;
  return row ? rowToPayment(row) : null;
}

export function findPaymentByExternalId(db: Db, externalPaymentId: string): Payment | null {
  const row = db.prepare(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE externalPaymentId = ?`).get(externalPaymentId) as
    | Record<string, unknown>
    | undefined;
  return row ? rowToPayment(row) : null;
}

export function listUserPayments(db: Db, userId: string, limit = 50): Payment[] {
  const rows = db
    .prepare(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE userId = ? ORDER BY createdAt DESC, rowid DESC LIMIT ?`)
    .all(userId, limit) as Array<Record<string, unknown>>;
  return rows.map(rowToPayment);
}

/** Payments still open after the reconciliation window: an admin has to look at them. */
export function listStalePendingPayments(db: Db, now: number): Payment[] {
  const rows = db
    .prepare(
      `SELECT ${PAYMENT_COLUMNS} FROM payments
       WHERE status IN ('pending', 'waiting_for_capture') AND createdAt < ? ORDER BY createdAt`,
    )
    .all(now - RECONCILE_WINDOW_MS) as Array<Record<string, unknown>>;
  return rows.map(rowToPayment);
}

/** Paid at YooKassa but not credited (amount, currency or metadata did not match): an admin decides. */
export function listPaymentsNeedingReview(db: Db): Payment[] {
  const rows = db
    .prepare(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE status = 'succeeded' AND applied = 0 ORDER BY createdAt`)
    .all() as Array<Record<string, unknown>>;
  return rows.map(rowToPayment);
}

export function paymentState(payment: Payment, now: number): PaymentState {
  if (payment.applied) return 'credited';
  if (payment.status === 'succeeded') return 'review';
  if (payment.status === 'canceled') return 'canceled';
  if (payment.status === 'failed') return 'failed';
  return now - payment.createdAt > CONFIRMATION_WINDOW_MS ? 'expired' : 'pending';
}

/** A sentence for the buyer: what happened and what to do next. */
export function paymentMessage(payment: Payment, locale: Locale, now: number): string {
  const state = paymentState(payment, now);
  if (state === 'canceled') {
    const key = `payments.cancel.${payment.cancellationReason ?? 'unknown'}`;
    return t(locale, hasMessage(key) ? key : 'payments.cancel.unknown');
  }
  return t(locale, `payments.state.${state}`, { credits: payment.credits });
}

/** The short status in the buyer's list of payments: an open one past its time reads as not completed. */
export function paymentStatusLabel(payment: Payment, locale: Locale, now: number): string {
  return t(locale, paymentState(payment, now) === 'expired' ? 'payments.status.expired' : `payments.status.${payment.status}`);
}

/**
 * A payment problem the operator must see: logged, and sent as a Telegram alert with stage
 * PAYMENT (the local payment id goes into the text). Never throws: an alert must not break
 * the payment flow.
 */
export function reportPaymentProblem(
  ctx: Pick<BillingDeps, 'log' | 'notifier'>,
  problem: { error: string; userId?: string | null; paymentId?: string | null; err?: unknown },
): void {
  try {
    ctx.log.error(
      { mod: 'billing', stage: 'PAYMENT', userId: problem.userId ?? null, paymentId: problem.paymentId ?? null, err: problem.err },
      problem.error,
    );
    const where = problem.paymentId ? ` (payment ${problem.paymentId})` : '';
    ctx.notifier.alert({ stage: 'PAYMENT', userId: problem.userId ?? null, error: `${problem.error}${where}` });
  } catch {
    // Alerting itself failed: nothing sensible is left to do; the payment flow goes on.
  }
}

export interface StartPaymentInput {
  user: { id: string; email: string };
  tariffId: string;
  locale?: Locale;
}

export interface StartedPayment {
  paymentId: string;
  externalPaymentId: string;
  confirmationUrl: string;
}

function buildCreateRequest(ctx: BillingDeps, payment: Payment, input: StartPaymentInput): CreatePaymentRequest {
  const amount = { value: formatAmount(payment.amountKopecks), currency: payment.currency };
  const tariffName = t('ru', `tariffs.${payment.plan}.name`);
  // Shown to the payer by YooKassa and on the receipt: Russian, at most 128 characters.
  const description = t('ru', 'payments.description', { tariff: tariffName, credits: payment.credits }).slice(0, 128);
  const request: CreatePaymentRequest = {
    amount,
    capture: true,
    confirmation: {
      type: 'redirect',
      return_url: `${ctx.config.server.publicBaseUrl}/billing?payment=${encodeURIComponent(payment.id)}`,
      locale: input.locale === 'en' ? 'en_US' : 'ru_RU',
    },
    description,
    metadata: { userId: payment.userId, paymentId: payment.id, plan: payment.plan },
  };
  if (ctx.config.yookassa.receiptsEnabled) {
    request.receipt = {
      customer: { email: input.user.email },
      items: [
        {
          description,
          quantity: 1,
          amount,
          vat_code: ctx.config.yookassa.vatCode,
          payment_subject: 'service',
          payment_mode: 'full_payment',
        },
      ],
    };
  }
  return request;
}

function providerFailure(err: YookassaError): AppError {
  return err.transient
    ? new AppError('PAYMENT_PROVIDER_UNAVAILABLE', { status: 503, retryAfter: 60, cause: err })
    : new AppError('PAYMENT_PROVIDER_ERROR', { status: 502, cause: err });
}

/**
 * Starts a purchase: the local row (pending, with this attempt's Idempotence-Key) is
 * committed before YooKassa is called, so a retry or a crash can never lose track of a
 * payment made at YooKassa. The amount always comes from server config.
 */
export async function startPayment(ctx: BillingDeps, input: StartPaymentInput): Promise<StartedPayment> {
  const tariff = findTariff(ctx.config.pricing, input.tariffId);
  if (!tariff) throw badRequest('UNKNOWN_TARIFF', 'plan');
  const now = ctx.clock.now();
  const id = newId('pay', now);
  ctx.db
    .prepare(
      `INSERT INTO payments (id, userId, amount_kopecks, credits, currency, status, provider, plan, idempotence_key, createdAt, updatedAt)
       VALUES (?, ?, ?, ?, 'RUB', 'pending', 'yookassa', ?, ?, ?, ?)`,
    )
    .run(id, input.user.id, tariff.priceKopecks, tariff.credits, tariff.id, randomUUID(), now, now);
  const payment = getPayment(ctx.db, id)!;
  const log = ctx.log.child({ mod: 'billing', paymentId: id, userId: input.user.id });

  let remote: YookassaPayment;
  try {
    remote = await ctx.yookassa.createPayment(buildCreateRequest(ctx, payment, input), payment.idempotenceKey);
  } catch (err) {
    // The buyer never got a confirmation URL, so nothing can be paid on this attempt; a
    // payment YooKassa may have made expires there unpaid. The next attempt gets a new key.
    const message = isYookassaError(err) ? err.message : String(err);
    ctx.db
      .prepare(
        `UPDATE payments SET status = 'failed', last_error = ?, updatedAt = ?
         WHERE id = ? AND status = 'pending' AND externalPaymentId IS NULL`,
      )
      .run(message.slice(0, 500), ctx.clock.now(), id);
    if (isYookassaError(err) && err.transient) {
      log.warn({ err }, 'YooKassa did not create the payment');
      throw providerFailure(err);
    }
    reportPaymentProblem(ctx, { error: `Создание платежа отклонено ЮKassa: ${message}`, userId: input.user.id, paymentId: id, err });
    throw isYookassaError(err) ? providerFailure(err) : err;
  }

  const confirmationUrl = remote.confirmation?.confirmation_url;
  const amountMatches = parseAmount(remote.amount.value) === payment.amountKopecks && remote.amount.currency === payment.currency;
  if (!confirmationUrl || !amountMatches) {
    const problem = !confirmationUrl ? 'no confirmation_url in the answer' : `amount ${remote.amount.value} ${remote.amount.currency}`;
    ctx.db
      .prepare(`UPDATE payments SET externalPaymentId = ?, status = 'failed', last_error = ?, updatedAt = ? WHERE id = ? AND externalPaymentId IS NULL`)
      .run(remote.id, `unexpected create answer: ${problem}`, ctx.clock.now(), id);
    reportPaymentProblem(ctx, { error: `Неожиданный ответ ЮKassa при создании платежа ${remote.id}: ${problem}`, userId: input.user.id, paymentId: id });
    throw new AppError('PAYMENT_PROVIDER_ERROR', { status: 502 });
  }
  const linked = ctx.db
    .prepare(
      `UPDATE payments SET externalPaymentId = ?, confirmation_url = ?, updatedAt = ?
       WHERE id = ? AND externalPaymentId IS NULL AND status = 'pending'`,
    )
    .run(remote.id, confirmationUrl, ctx.clock.now(), id);
  if (linked.changes === 0) {
    // The call outlived CREATE_ABANDONED_AFTER_MS and reconciliation closed this attempt: no
    // URL for a closed row. The remote id is still recorded so a payment on it is recognised.
    ctx.db.prepare('UPDATE payments SET externalPaymentId = ? WHERE id = ? AND externalPaymentId IS NULL').run(remote.id, id);
    log.warn({ externalPaymentId: remote.id }, 'payment created after its attempt was closed; not offered');
    throw new AppError('PAYMENT_PROVIDER_ERROR', { status: 502 });
  }
  log.info({ externalPaymentId: remote.id, plan: tariff.id }, 'payment created');
  return { paymentId: id, externalPaymentId: remote.id, confirmationUrl };
}

export type ApplyOutcome = 'credited' | 'already_applied' | 'canceled' | 'pending' | 'waiting_for_capture' | 'mismatch' | 'unchanged';

/** Why a succeeded payment must not be credited, or null when it matches our row. */
function findMismatch(payment: Payment, remote: YookassaPayment): string | null {
  const problems: string[] = [];
  if (parseAmount(remote.amount.value) !== payment.amountKopecks) {
    problems.push(`amount ${remote.amount.value}, expected ${formatAmount(payment.amountKopecks)}`);
  }
  if (remote.amount.currency !== payment.currency) problems.push(`currency ${remote.amount.currency}, expected ${payment.currency}`);
  const metadata = remote.metadata ?? {};
  const expected: Record<string, string> = { paymentId: payment.id, userId: payment.userId, plan: payment.plan };
  for (const [key, value] of Object.entries(expected)) {
    if (String(metadata[key] ?? '') !== value) problems.push(`metadata.${key} ${String(metadata[key] ?? 'missing')}, expected ${value}`);
  }
  return problems.length > 0 ? problems.join('; ') : null;
}

/**
 * Credits a succeeded payment exactly once: the guarded UPDATE (applied = 0) and the ledger
 * line (unique reference `payment:<id>`) and the plan change share one transaction, so a
 * second caller — webhook, check, reconciliation, a retry — finds nothing to do.
 */
function creditPayment(ctx: BillingDeps, payment: Payment): boolean {
  const now = ctx.clock.now();
  return inTransaction(ctx.db, () => {
    const claimed = ctx.db
      .prepare(
        `UPDATE payments SET status = 'succeeded', applied = 1, appliedAt = ?, lastCheckedAt = ?, last_error = NULL, updatedAt = ?
         WHERE id = ? AND applied = 0`,
      )
      .run(now, now, now, payment.id);
    if (claimed.changes === 0) return false;
    applyCreditChange(ctx.db, {
      userId: payment.userId,
      delta: payment.credits,
      kind: 'payment',
      reference: ledgerRef.payment(payment.id),
      note: `ЮKassa ${payment.externalPaymentId}, тариф ${payment.plan}`,
      now,
    });
    const tariff = findTariff(ctx.config.pricing, payment.plan);
    if (tariff?.plan) {
      const current = ctx.db.prepare('SELECT plan FROM users WHERE id = ?').pluck().get(payment.userId) as string;
      const plan = planAfterPurchase(current, tariff);
      ctx.db.prepare('UPDATE users SET plan = ?, updatedAt = ? WHERE id = ?').run(plan, now, payment.userId);
      // Credits do not expire, so neither does the plan bought with them (expiresAt NULL).
      ctx.db
        .prepare(
          `INSERT INTO admin_subscriptions (userId, plan, isPaid, expiresAt, provider, updatedAt)
           VALUES (?, ?, 1, NULL, 'yookassa', ?)
           ON CONFLICT (userId) DO UPDATE SET plan = excluded.plan, isPaid = 1, expiresAt = NULL,
             provider = 'yookassa', updatedAt = excluded.updatedAt`,
        )
        .run(payment.userId, plan, now);
    }
    return true;
  });
}

/**
 * Moves the local payment to what YooKassa says (`remote` must come from our own GET, never
 * from a webhook body). Final states never move back: a late `pending`-era answer after
 * `succeeded` changes nothing.
 */
export function applyPaymentState(ctx: BillingDeps, payment: Payment, remote: YookassaPayment): ApplyOutcome {
  if (remote.id !== payment.externalPaymentId) {
    throw new Error(`payment ${payment.id} is ${payment.externalPaymentId} at YooKassa, got ${remote.id}`);
  }
  const now = ctx.clock.now();
  const log = ctx.log.child({ mod: 'billing', paymentId: payment.id, userId: payment.userId });
  switch (remote.status) {
    case 'succeeded': {
      const mismatch = findMismatch(payment, remote);
      if (mismatch) {
        const marked = ctx.db
          .prepare(
            `UPDATE payments SET status = 'succeeded', last_error = ?, lastCheckedAt = ?, updatedAt = ?
             WHERE id = ? AND applied = 0 AND status IN ('pending', 'waiting_for_capture')`,
          )
          .run(`not credited: ${mismatch}`.slice(0, 500), now, now, payment.id);
        if (marked.changes > 0) {
          reportPaymentProblem(ctx, {
            error: `Платёж ${remote.id} оплачен, но не совпадает с заказом (${mismatch}); кредиты не начислены`,
            userId: payment.userId,
            paymentId: payment.id,
          });
        }
        return 'mismatch';
      }
      if (creditPayment(ctx, payment)) {
        log.info({ credits: payment.credits, plan: payment.plan }, 'payment credited');
        return 'credited';
      }
      return 'already_applied';
    }
    case 'canceled': {
      const details = remote.cancellation_details;
      const changed = ctx.db
        .prepare(
          `UPDATE payments SET status = 'canceled', cancellation_party = ?, cancellation_reason = ?, lastCheckedAt = ?, updatedAt = ?
           WHERE id = ? AND applied = 0 AND status IN ('pending', 'waiting_for_capture')`,
        )
        .run(details?.party ?? null, details?.reason ?? null, now, now, payment.id);
      if (changed.changes > 0) log.info({ party: details?.party, reason: details?.reason }, 'payment canceled');
      return changed.changes > 0 ? 'canceled' : 'unchanged';
    }
    case 'waiting_for_capture': {
      // We create one-stage payments (capture: true); a held payment means the shop's
      // settings differ from ours, and the money waits for someone to capture it.
      const changed = ctx.db
        .prepare(
          `UPDATE payments SET status = 'waiting_for_capture', lastCheckedAt = ?, updatedAt = ? WHERE id = ? AND status = 'pending'`,
        )
        .run(now, now, payment.id);
      if (changed.changes > 0) {
        reportPaymentProblem(ctx, {
          error: `Платёж ${remote.id} ждёт подтверждения (waiting_for_capture), хотя создан с capture=true; подтвердите или отмените его в ЛК ЮKassa`,
          userId: payment.userId,
          paymentId: payment.id,
        });
      }
      return 'waiting_for_capture';
    }
    case 'pending':
      ctx.db.prepare('UPDATE payments SET lastCheckedAt = ? WHERE id = ?').run(now, payment.id);
      return 'pending';
  }
}

/**
 * YooKassa answered 404 for a payment we created there. The payment stays open: the same
 * answer comes for real, paid payments when the shop's credentials are wrong, so it is never
 * closed or credited because of it. The operator hears about it once; later checks come
 * after growing pauses (`unknownRecheckDelay`) until YooKassa knows it or an admin settles it.
 */
function markPaymentUnknown(ctx: BillingDeps, payment: Payment): void {
  const now = ctx.clock.now();
  const first = inTransaction(ctx.db, () => {
    const row = ctx.db.prepare('SELECT unknown_since AS since, unknown_checks AS checks FROM payments WHERE id = ?').get(payment.id) as
      | { since: number | null; checks: number }
      | undefined;
    if (!row) return false;
    const checks = row.checks + 1;
    const marked = ctx.db
      .prepare(
        `UPDATE payments SET unknown_since = COALESCE(unknown_since, @now), unknown_checks = @checks, next_check_at = @next,
           last_error = 'YooKassa: 404 not_found', lastCheckedAt = @now, updatedAt = @now
         WHERE id = @id AND applied = 0 AND status IN ('pending', 'waiting_for_capture')`,
      )
      .run({ id: payment.id, now, checks, next: now + unknownRecheckDelay(checks) }).changes;
    return marked > 0 && row.since === null;
  });
  if (first) {
    reportPaymentProblem(ctx, {
      error:
        `ЮKassa не знает платёж ${payment.externalPaymentId} (404). Так же отвечают неверные shopId/ключ магазина — ` +
        'проверьте их. Платёж не закрыт и не зачислен; проверяем его снова с растущими паузами, решите вручную в /admin/payments',
      userId: payment.userId,
      paymentId: payment.id,
    });
  } else {
    ctx.log.warn({ mod: 'billing', paymentId: payment.id, checks: payment.unknownChecks + 1 }, 'YooKassa still does not know the payment');
  }
}

/**
 * Reads the payment at YooKassa and applies it; a transient failure leaves it as it is, and
 * a 404 marks it unknown (see `markPaymentUnknown`) instead of throwing.
 */
async function refreshPayment(ctx: BillingDeps, payment: Payment, maxAttempts?: number): Promise<ApplyOutcome | 'unknown'> {
  let remote: YookassaPayment;
  try {
    remote = await ctx.yookassa.getPayment(payment.externalPaymentId!, { maxAttempts });
  } catch (err) {
    if (isYookassaError(err) && err.code === 'not_found') {
      markPaymentUnknown(ctx, payment);
      return 'unknown';
    }
    throw err;
  }
  if (payment.unknownSince !== null) {
    ctx.db.prepare('UPDATE payments SET unknown_since = NULL, unknown_checks = 0, next_check_at = NULL WHERE id = ?').run(payment.id);
    ctx.log.info({ mod: 'billing', paymentId: payment.id }, 'YooKassa knows the payment again');
  }
  return applyPaymentState(ctx, payment, remote);
}

/** An unknown payment waits for its next check; everything else may be asked about now. */
function isCheckDue(payment: Payment, now: number): boolean {
  return payment.nextCheckAt === null || payment.nextCheckAt <= now;
}

export interface PaymentView {
  paymentId: string;
  externalPaymentId: string | null;
  status: PaymentStatus;
  state: PaymentState;
  plan: string;
  credits: number;
  /** YooKassa answered 404 for it: an admin resolves it by hand. */
  unknownAtProvider: boolean;
  /** "1490.00", as YooKassa writes it. */
  amount: string;
  amountKopecks: number;
  currency: string;
  applied: boolean;
  cancellation: { party: string | null; reason: string | null } | null;
  createdAt: number;
}

export function toPaymentView(payment: Payment, now: number): PaymentView {
  return {
    paymentId: payment.id,
    externalPaymentId: payment.externalPaymentId,
    status: payment.status,
    state: paymentState(payment, now),
    unknownAtProvider: payment.unknownSince !== null,
    plan: payment.plan,
    credits: payment.credits,
    amount: formatAmount(payment.amountKopecks),
    amountKopecks: payment.amountKopecks,
    currency: payment.currency,
    applied: payment.applied,
    cancellation:
      payment.status === 'canceled' ? { party: payment.cancellationParty, reason: payment.cancellationReason } : null,
    createdAt: payment.createdAt,
  };
}

export interface CheckedPayment {
  payment: Payment;
  balance: number;
  plan: string;
}

/**
 * The buyer asks how their payment went (the return page polls this). Only the owner may
 * ask. An open payment is re-read from YooKassa and applied; when YooKassa cannot be reached
 * the stored state is answered and the next poll (or the webhook, or reconciliation) settles it.
 * A payment YooKassa does not know is asked about only when its next check is due, unless
 * `force` (an admin's re-check).
 */
export async function checkPayment(
  ctx: BillingDeps,
  input: { userId: string; paymentId: string; force?: boolean },
): Promise<CheckedPayment> {
  let payment = getPayment(ctx.db, input.paymentId);
  if (!payment) throw notFound('PAYMENT_NOT_FOUND');
  if (payment.userId !== input.userId) throw forbidden('USER_MISMATCH');
  const due = input.force === true || isCheckDue(payment, ctx.clock.now());
  if (OPEN_PAYMENT_STATUSES.includes(payment.status) && payment.externalPaymentId && due) {
    try {
      await refreshPayment(ctx, payment);
    } catch (err) {
      if (isYookassaError(err) && err.transient) {
        ctx.log.warn({ mod: 'billing', paymentId: payment.id, err }, 'payment check could not reach YooKassa');
      } else {
        reportPaymentProblem(ctx, { error: `Проверка платежа не удалась: ${String(err)}`, userId: payment.userId, paymentId: payment.id, err });
      }
    }
    payment = getPayment(ctx.db, input.paymentId)!;
  }
  const user = ctx.db.prepare('SELECT generation_balance AS balance, plan FROM users WHERE id = ?').get(payment.userId) as {
    balance: number;
    plan: string;
  };
  return { payment, balance: user.balance, plan: user.plan };
}

export type NotificationOutcome = ApplyOutcome | 'ignored' | 'unknown_payment' | 'already_final';

/**
 * A YooKassa notification: only the object id is taken from it; the payment is re-read
 * from the API and that answer is applied. Forged, unknown and duplicate notifications
 * change nothing. Throws PAYMENT_PROVIDER_UNAVAILABLE (a 503, so YooKassa delivers again)
 * only when the re-read itself failed.
 */
export async function handlePaymentNotification(ctx: BillingDeps, body: unknown): Promise<NotificationOutcome> {
  const parsed = notificationSchema.safeParse(body);
  if (!parsed.success || !parsed.data.event.startsWith('payment.')) return 'ignored';
  const payment = findPaymentByExternalId(ctx.db, parsed.data.object.id);
  if (!payment) return 'unknown_payment';
  if (!OPEN_PAYMENT_STATUSES.includes(payment.status)) return 'already_final';
  try {
    // One attempt: YooKassa repeats the notification itself, and it wants a quick answer.
    const outcome = await refreshPayment(ctx, payment, 1);
    return outcome === 'unknown' ? 'unknown_payment' : outcome;
  } catch (err) {
    if (!(isYookassaError(err) && err.transient)) {
      reportPaymentProblem(ctx, { error: `Уведомление ЮKassa не обработано: ${String(err)}`, userId: payment.userId, paymentId: payment.id, err });
    }
    throw new AppError('PAYMENT_PROVIDER_UNAVAILABLE', { status: 503, cause: err });
  }
}

export interface ReconcileReport {
  checked: number;
  changed: number;
  failed: number;
  abandoned: number;
  /** YooKassa answered 404 (see `markPaymentUnknown`). */
  unknown: number;
}

/**
 * Settles payments whose notification never came: open payments younger than a day are
 * re-read (one YooKassa does not know, only when its next check is due). Rows that never got
 * a YooKassa id (the process died during the create call) are closed as failed: their buyer
 * never saw a confirmation page.
 */
export async function reconcilePendingPayments(ctx: BillingDeps): Promise<ReconcileReport> {
  const now = ctx.clock.now();
  const abandoned = ctx.db
    .prepare(
      `UPDATE payments SET status = 'failed', last_error = 'create call interrupted', updatedAt = ?
       WHERE status = 'pending' AND externalPaymentId IS NULL AND createdAt < ?`,
    )
    .run(now, now - CREATE_ABANDONED_AFTER_MS).changes;
  const open = (
    ctx.db
      .prepare(
        `SELECT ${PAYMENT_COLUMNS} FROM payments
         WHERE status IN ('pending', 'waiting_for_capture') AND externalPaymentId IS NOT NULL AND createdAt >= ?
           AND (next_check_at IS NULL OR next_check_at <= ?)
         ORDER BY createdAt`,
      )
      .all(now - RECONCILE_WINDOW_MS, now) as Array<Record<string, unknown>>
  ).map(rowToPayment);

  const report: ReconcileReport = { checked: 0, changed: 0, failed: 0, abandoned, unknown: 0 };
  for (const payment of open) {
    report.checked += 1;
    try {
      const outcome = await refreshPayment(ctx, payment);
      if (outcome === 'unknown') report.unknown += 1;
      else if (outcome !== 'pending' && outcome !== 'unchanged' && outcome !== 'already_applied') report.changed += 1;
    } catch (err) {
      report.failed += 1;
      if (isYookassaError(err) && err.transient) {
        ctx.log.warn({ mod: 'billing', paymentId: payment.id, err }, 'reconciliation could not reach YooKassa');
      } else {
        reportPaymentProblem(ctx, { error: `Сверка платежа не удалась: ${String(err)}`, userId: payment.userId, paymentId: payment.id, err });
      }
    }
  }
  return report;
}
