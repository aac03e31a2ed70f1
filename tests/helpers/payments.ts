import { randomUUID } from 'node:crypto';
import type { Config } from '../../src/lib/config.ts';
import type { Database } from '../../src/lib/db/database.ts';
import { getPayment, type Payment } from '../../src/lib/billing/payment-store.ts';
import { findTariff, formatAmount } from '../../src/lib/billing/pricing.ts';
import type { RemotePaymentStatus, YookassaPayment } from '../../src/lib/providers/yookassa/schemas.ts';

/**
 * Named fixtures for tests that apply YooKassa's answers to payments directly: a payment
 * created at YooKassa and waiting for the buyer, and YooKassa's answer to our GET for it.
 */

/** A payment of `plan` (price and credits from config) that YooKassa knows and the buyer has not paid yet. */
export async function pendingPayment(db: Database, config: Config, options: { userId: string; plan: string; now: number }): Promise<Payment> {
  const tariff = findTariff(config.pricing, options.plan);
  if (!tariff) throw new Error(`pendingPayment: no tariff ${options.plan}`);
  const id = `pay_${randomUUID()}`;
  await db.run(
    `INSERT INTO payments (id, userId, externalPaymentId, amount_kopecks, credits, currency, status, provider, plan, idempotence_key,
       confirmation_url, createdAt, updatedAt)
     VALUES (?, ?, ?, ?, ?, 'RUB', 'pending', 'yookassa', ?, ?, 'https://yoomoney.ru/checkout/payments/v2/contract', ?, ?)`,
    [id, options.userId, randomUUID(), tariff.priceKopecks, tariff.credits, tariff.id, randomUUID(), options.now, options.now],
  );
  return (await getPayment(db, id))!;
}

/** What YooKassa answers to `GET /v3/payments/<id>` for `payment` in `status` (overrides for forged or odd answers). */
export function yookassaAnswer(payment: Payment, status: RemotePaymentStatus, overrides: Partial<YookassaPayment> = {}): YookassaPayment {
  return {
    id: payment.externalPaymentId!,
    status,
    paid: status === 'succeeded' || status === 'waiting_for_capture',
    amount: { value: formatAmount(payment.amountKopecks), currency: payment.currency },
    created_at: new Date(payment.createdAt).toISOString(),
    test: true,
    refundable: status === 'succeeded',
    metadata: { userId: payment.userId, paymentId: payment.id, plan: payment.plan },
    ...(status === 'canceled' ? { cancellation_details: { party: 'yoo_money', reason: 'expired_on_confirmation' } } : {}),
    ...overrides,
  };
}
