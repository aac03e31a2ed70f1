import { randomUUID } from 'node:crypto';
import { AppError, badRequest } from '../errors.ts';
import { t, type Locale } from '../i18n/index.ts';
import { newId } from '../ids.ts';
import { isYookassaError, type YookassaError } from '../providers/yookassa/client.ts';
import type { CreatePaymentRequest, YookassaPayment } from '../providers/yookassa/schemas.ts';
import { reportPaymentProblem, type BillingDeps } from './billing-deps.ts';
import { getPayment, type Payment } from './payment-store.ts';
import { findTariff, formatAmount, parseAmount } from './pricing.ts';

/**
 * Starting a purchase (DESIGN.md §4): the local row first, with this attempt's
 * Idempotence-Key, then YooKassa's create call; the buyer gets the confirmation URL.
 */

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
  await ctx.db.run(
    `INSERT INTO payments (id, userId, amount_kopecks, credits, currency, status, provider, plan, idempotence_key, createdAt, updatedAt)
     VALUES (?, ?, ?, ?, 'RUB', 'pending', 'yookassa', ?, ?, ?, ?)`,
    [id, input.user.id, tariff.priceKopecks, tariff.credits, tariff.id, randomUUID(), now, now],
  );
  const payment = (await getPayment(ctx.db, id))!;
  const log = ctx.log.child({ mod: 'billing', paymentId: id, userId: input.user.id });

  let remote: YookassaPayment;
  try {
    remote = await ctx.yookassa.createPayment(buildCreateRequest(ctx, payment, input), payment.idempotenceKey);
  } catch (err) {
    // The buyer never got a confirmation URL, so nothing can be paid on this attempt; a
    // payment YooKassa may have made expires there unpaid. The next attempt gets a new key.
    const message = isYookassaError(err) ? err.message : String(err);
    await ctx.db.run(
      `UPDATE payments SET status = 'failed', last_error = ?, updatedAt = ?
       WHERE id = ? AND status = 'pending' AND externalPaymentId IS NULL`,
      [message.slice(0, 500), ctx.clock.now(), id],
    );
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
    await ctx.db.run(
      `UPDATE payments SET externalPaymentId = ?, status = 'failed', last_error = ?, updatedAt = ? WHERE id = ? AND externalPaymentId IS NULL`,
      [remote.id, `unexpected create answer: ${problem}`, ctx.clock.now(), id],
    );
    reportPaymentProblem(ctx, { error: `Неожиданный ответ ЮKassa при создании платежа ${remote.id}: ${problem}`, userId: input.user.id, paymentId: id });
    throw new AppError('PAYMENT_PROVIDER_ERROR', { status: 502 });
  }
  const linked = await ctx.db.run(
    `UPDATE payments SET externalPaymentId = ?, confirmation_url = ?, updatedAt = ?
     WHERE id = ? AND externalPaymentId IS NULL AND status = 'pending'`,
    [remote.id, confirmationUrl, ctx.clock.now(), id],
  );
  if (linked.changes === 0) {
    // The call outlived CREATE_ABANDONED_AFTER_MS and reconciliation closed this attempt: no
    // URL for a closed row. The remote id is still recorded so a payment on it is recognised.
    await ctx.db.run('UPDATE payments SET externalPaymentId = ? WHERE id = ? AND externalPaymentId IS NULL', [remote.id, id]);
    log.warn({ externalPaymentId: remote.id }, 'payment created after its attempt was closed; not offered');
    throw new AppError('PAYMENT_PROVIDER_ERROR', { status: 502 });
  }
  log.info({ externalPaymentId: remote.id, plan: tariff.id }, 'payment created');
  return { paymentId: id, externalPaymentId: remote.id, confirmationUrl };
}
