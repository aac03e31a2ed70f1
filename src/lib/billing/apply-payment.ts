import { inTransaction } from '../db/database.ts';
import { AppError, forbidden, notFound } from '../errors.ts';
import { ledgerRef, OPEN_PAYMENT_STATUSES, type Plan } from '../model.ts';
import { isYookassaError } from '../providers/yookassa/client.ts';
import { notificationSchema, type YookassaPayment } from '../providers/yookassa/schemas.ts';
import { reportPaymentProblem, type BillingDeps } from './billing-deps.ts';
import { applyCreditChange } from './ledger.ts';
import { findPaymentByExternalId, getPayment, type Payment } from './payment-store.ts';
import { findMismatch, isCheckDue, unknownRecheckDelay } from './payment-rules.ts';
import { findTariff, planAfterPurchase } from './pricing.ts';
import { setPlan } from './subscriptions.ts';

/**
 * Applying what YooKassa says about a payment (DESIGN.md §2.3, §4). Nothing from outside is
 * trusted as is: the webhook and the `check` endpoint both re-read the payment from the API,
 * and whichever path sees `succeeded` first credits the account in one transaction guarded
 * by `applied = 0` and the ledger reference `payment:<id>`; every other path changes nothing.
 */

export type ApplyOutcome = 'credited' | 'already_applied' | 'canceled' | 'pending' | 'waiting_for_capture' | 'mismatch' | 'unchanged';

/**
 * Credits a succeeded payment exactly once: the guarded UPDATE (applied = 0) and the ledger
 * line (unique reference `payment:<id>`) and the plan change share one transaction, so a
 * second caller — webhook, check, reconciliation, a retry — finds nothing to do.
 */
async function creditPayment(ctx: BillingDeps, payment: Payment): Promise<boolean> {
  const now = ctx.clock.now();
  return inTransaction(ctx.db, async (tx) => {
    // `applied = 0` MUST guard this UPDATE and decide whether credits follow: webhook, check
    // and reconciliation race on the same payment, and only the one that flips it may credit.
    const claimed = await tx.run(
      `UPDATE payments SET status = 'succeeded', applied = 1, appliedAt = ?, lastCheckedAt = ?, last_error = NULL, updatedAt = ?
       WHERE id = ? AND applied = 0`,
      [now, now, now, payment.id],
    );
    if (claimed.changes === 0) return false;
    await applyCreditChange(tx, {
      userId: payment.userId,
      delta: payment.credits,
      kind: 'payment',
      reference: ledgerRef.payment(payment.id),
      note: `ЮKassa ${payment.externalPaymentId}, тариф ${payment.plan}`,
      now,
    });
    const tariff = findTariff(ctx.config.pricing, payment.plan);
    if (tariff?.plan) {
      const current = (await tx.value<Plan>('SELECT plan FROM users WHERE id = ?', [payment.userId]))!;
      // Credits do not expire, so neither does the plan bought with them.
      await setPlan(tx, { userId: payment.userId, plan: planAfterPurchase(current, tariff), isPaid: true, expiresAt: null, provider: 'yookassa', now });
    }
    return true;
  });
}

/**
 * Moves the local payment to what YooKassa says (`remote` must come from our own GET, never
 * from a webhook body). Final states never move back: a late `pending`-era answer after
 * `succeeded` changes nothing.
 */
export async function applyPaymentState(ctx: BillingDeps, payment: Payment, remote: YookassaPayment): Promise<ApplyOutcome> {
  if (remote.id !== payment.externalPaymentId) {
    throw new Error(`payment ${payment.id} is ${payment.externalPaymentId} at YooKassa, got ${remote.id}`);
  }
  const now = ctx.clock.now();
  const log = ctx.log.child({ mod: 'billing', paymentId: payment.id, userId: payment.userId });
  switch (remote.status) {
    case 'succeeded': {
      const mismatch = findMismatch(payment, remote);
      if (mismatch) {
        const marked = await ctx.db.run(
          `UPDATE payments SET status = 'succeeded', last_error = ?, lastCheckedAt = ?, updatedAt = ?
           WHERE id = ? AND applied = 0 AND status IN ('pending', 'waiting_for_capture')`,
          [`not credited: ${mismatch}`.slice(0, 500), now, now, payment.id],
        );
        if (marked.changes > 0) {
          reportPaymentProblem(ctx, {
            error: `Платёж ${remote.id} оплачен, но не совпадает с заказом (${mismatch}); кредиты не начислены`,
            userId: payment.userId,
            paymentId: payment.id,
          });
        }
        return 'mismatch';
      }
      if (await creditPayment(ctx, payment)) {
        log.info({ credits: payment.credits, plan: payment.plan }, 'payment credited');
        return 'credited';
      }
      return 'already_applied';
    }
    case 'canceled': {
      const details = remote.cancellation_details;
      // NEVER drop the `applied = 0` and open-status guard: a late or forged `canceled` would
      // then overwrite a payment already credited.
      const changed = await ctx.db.run(
        `UPDATE payments SET status = 'canceled', cancellation_party = ?, cancellation_reason = ?, lastCheckedAt = ?, updatedAt = ?
         WHERE id = ? AND applied = 0 AND status IN ('pending', 'waiting_for_capture')`,
        [details?.party ?? null, details?.reason ?? null, now, now, payment.id],
      );
      if (changed.changes > 0) log.info({ party: details?.party, reason: details?.reason }, 'payment canceled');
      return changed.changes > 0 ? 'canceled' : 'unchanged';
    }
    case 'waiting_for_capture': {
      // We create one-stage payments (capture: true); a held payment means the shop's
      // settings differ from ours, and the money waits for someone to capture it. The
      // `status = 'pending'` guard MUST stay: it keeps a final payment from moving back.
      const changed = await ctx.db.run(
        `UPDATE payments SET status = 'waiting_for_capture', lastCheckedAt = ?, updatedAt = ? WHERE id = ? AND status = 'pending'`,
        [now, now, payment.id],
      );
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
      await ctx.db.run('UPDATE payments SET lastCheckedAt = ? WHERE id = ?', [now, payment.id]);
      return 'pending';
  }
}

/**
 * YooKassa answered 404 for a payment we created there. The payment stays open: the same
 * answer comes for real, paid payments when the shop's credentials are wrong, so it is never
 * closed or credited because of it. The operator hears about it once; later checks come
 * after growing pauses (`unknownRecheckDelay`) until YooKassa knows it or an admin settles it.
 */
async function markPaymentUnknown(ctx: BillingDeps, payment: Payment): Promise<void> {
  const now = ctx.clock.now();
  const first = await inTransaction(ctx.db, async (tx) => {
    const row = await tx.get<{ since: number | null; checks: number }>(
      'SELECT unknown_since AS since, unknown_checks AS checks FROM payments WHERE id = ?',
      [payment.id],
    );
    if (!row) return false;
    const checks = row.checks + 1;
    const marked = (
      await tx.run(
        `UPDATE payments SET unknown_since = COALESCE(unknown_since, @now), unknown_checks = @checks, next_check_at = @next,
           last_error = 'YooKassa: 404 not_found', lastCheckedAt = @now, updatedAt = @now
         WHERE id = @id AND applied = 0 AND status IN ('pending', 'waiting_for_capture')`,
        { id: payment.id, now, checks, next: now + unknownRecheckDelay(checks) },
      )
    ).changes;
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
export async function refreshPayment(ctx: BillingDeps, payment: Payment, maxAttempts?: number): Promise<ApplyOutcome | 'unknown'> {
  let remote: YookassaPayment;
  try {
    remote = await ctx.yookassa.getPayment(payment.externalPaymentId!, { maxAttempts });
  } catch (err) {
    if (isYookassaError(err) && err.code === 'not_found') {
      await markPaymentUnknown(ctx, payment);
      return 'unknown';
    }
    throw err;
  }
  if (payment.unknownSince !== null) {
    await ctx.db.run('UPDATE payments SET unknown_since = NULL, unknown_checks = 0, next_check_at = NULL WHERE id = ?', [payment.id]);
    ctx.log.info({ mod: 'billing', paymentId: payment.id }, 'YooKassa knows the payment again');
  }
  return applyPaymentState(ctx, payment, remote);
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
  let payment = await getPayment(ctx.db, input.paymentId);
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
    payment = (await getPayment(ctx.db, input.paymentId))!;
  }
  const user = (await ctx.db.get<{ balance: number; plan: string }>('SELECT generation_balance AS balance, plan FROM users WHERE id = ?', [
    payment.userId,
  ]))!;
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
  const payment = await findPaymentByExternalId(ctx.db, parsed.data.object.id);
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
