import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import type { YookassaEmulator } from '../../sandbox/yookassa/index.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { createContext, type AppContext } from '../../src/lib/context.ts';
import { migrate, openDatabase } from '../../src/lib/db/index.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { findLedgerMismatches } from '../../src/lib/billing/ledger.ts';
import { checkPayment, handlePaymentNotification } from '../../src/lib/billing/apply-payment.ts';
import { getPayment } from '../../src/lib/billing/payment-store.ts';
import { reconcilePendingPayments } from '../../src/lib/billing/reconciler.ts';
import { startPayment } from '../../src/lib/billing/start-payment.ts';
import { CREATE_ABANDONED_AFTER_MS } from '../../src/lib/billing/payment-rules.ts';
import { findTariff } from '../../src/lib/billing/pricing.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';

/**
 * The payment service called in this process against the YooKassa emulator — the paths the
 * HTTP tests reach only through the built server's own copy: starting a payment, the buyer's
 * check, a notification, reconciliation. Whatever the order, a payment credits once.
 */

describe('payments in this process, against the YooKassa sandbox', () => {
  let sandbox: Sandbox;
  let ctx: AppContext;
  let clock: ManualClock;
  let userId: string;
  const yookassa = () => sandbox.emulator<YookassaEmulator>('yookassa');
  const buyer = () => ({ id: userId, email: 'seller@example.ru' });
  const yookassaCalls = () => sandbox.requestCounts.yookassa ?? 0;
  const balance = () => ctx.db.value<number>('SELECT generation_balance FROM users WHERE id = ?', [userId]);
  const notification = (externalId: string, event = 'payment.succeeded') => ({ type: 'notification', event, object: { id: externalId, status: 'pending' } });

  beforeAll(async () => {
    // Notifications go nowhere: this test hands them to the service itself.
    sandbox = await startSandbox({ appUrl: 'http://127.0.0.1:9' });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    yookassa().reset();
    clock = new ManualClock(Date.now());
    const db = openDatabase(':memory:');
    migrate(db);
    const loaded = loadConfig({ NODE_ENV: 'test', SANDBOX_URL: sandbox.url, YOOKASSA_RETRY_BASE_MS: '1', YOOKASSA_RETRY_MAX_DELAY_MS: '5' });
    ctx = await createContext(loaded, { db, clock, log: createLogger('silent') });
    userId = await seedUserWithPhoto(db, { now: clock.now() });
  });

  /** The buyer pays (or cancels) on YooKassa's page; its notification is not sent. */
  async function settleAtYookassa(externalId: string, action: 'pay' | 'cancel'): Promise<void> {
    await yookassa().injectFault({ fault: { kind: 'drop_notification' } });
    await yookassa().act({ action, paymentId: externalId });
  }

  it('starts a payment at the price from config, and refuses an unknown tariff', async () => {
    const started = await startPayment(ctx, { user: buyer(), tariffId: 'basic' });
    const tariff = findTariff(ctx.config.pricing, 'basic')!;
    expect(await getPayment(ctx.db, started.paymentId)).toMatchObject({
      status: 'pending',
      externalPaymentId: started.externalPaymentId,
      amountKopecks: tariff.priceKopecks,
      credits: tariff.credits,
      confirmationUrl: started.confirmationUrl,
    });
    expect(yookassa().state().payments).toMatchObject([
      { id: started.externalPaymentId, metadata: { userId, paymentId: started.paymentId, plan: 'basic' } },
    ]);
    await expect(startPayment(ctx, { user: buyer(), tariffId: 'gold' })).rejects.toMatchObject({ code: 'UNKNOWN_TARIFF' });
  });

  it('closes the attempt as failed when YooKassa cannot create the payment', async () => {
    await yookassa().injectFault({ fault: { kind: 'http_500', on: 'create' }, count: 5 });
    await expect(startPayment(ctx, { user: buyer(), tariffId: 'basic' })).rejects.toMatchObject({ code: 'PAYMENT_PROVIDER_UNAVAILABLE', status: 503 });
    expect(await ctx.db.all('SELECT status, externalPaymentId FROM payments')).toEqual([{ status: 'failed', externalPaymentId: null }]);
  });

  it('credits a paid payment once, whichever path reads it first, and asks YooKassa no more about it', async () => {
    const { paymentId, externalPaymentId } = await startPayment(ctx, { user: buyer(), tariffId: 'basic' });
    await settleAtYookassa(externalPaymentId, 'pay');
    expect(await handlePaymentNotification(ctx, notification(externalPaymentId))).toBe('credited');
    const credits = findTariff(ctx.config.pricing, 'basic')!.credits;
    expect(await balance()).toBe(3 + credits);

    const calls = yookassaCalls();
    expect(await handlePaymentNotification(ctx, notification(externalPaymentId))).toBe('already_final');
    expect(await checkPayment(ctx, { userId, paymentId })).toMatchObject({ payment: { applied: true, status: 'succeeded' }, balance: 3 + credits, plan: 'basic' });
    expect(await reconcilePendingPayments(ctx)).toMatchObject({ checked: 0, changed: 0 });
    expect(yookassaCalls()).toBe(calls);
    expect(await balance()).toBe(3 + credits);
    expect(await findLedgerMismatches(ctx.db)).toEqual([]);
  });

  it('answers the buyer’s check for their own payments only, settling an open one from YooKassa', async () => {
    const { paymentId, externalPaymentId } = await startPayment(ctx, { user: buyer(), tariffId: 'single' });
    const stranger = await seedUserWithPhoto(ctx.db, { now: clock.now(), email: 'stranger@example.ru' });
    await expect(checkPayment(ctx, { userId: stranger, paymentId })).rejects.toMatchObject({ code: 'USER_MISMATCH', status: 403 });
    await expect(checkPayment(ctx, { userId, paymentId: 'pay_none' })).rejects.toMatchObject({ code: 'PAYMENT_NOT_FOUND', status: 404 });
    expect((await checkPayment(ctx, { userId, paymentId })).payment.status).toBe('pending');

    await settleAtYookassa(externalPaymentId, 'cancel');
    expect((await checkPayment(ctx, { userId, paymentId })).payment).toMatchObject({ status: 'canceled', cancellationReason: 'expired_on_confirmation' });
    const calls = yookassaCalls();
    expect((await checkPayment(ctx, { userId, paymentId })).payment.status).toBe('canceled');
    expect(yookassaCalls()).toBe(calls);
    expect(await balance()).toBe(3);
  });

  it('ignores notifications that name no payment of ours, and changes nothing for them', async () => {
    await startPayment(ctx, { user: buyer(), tariffId: 'basic' });
    const calls = yookassaCalls();
    expect(await handlePaymentNotification(ctx, { junk: true })).toBe('ignored');
    expect(await handlePaymentNotification(ctx, notification('2f3b588d-000f-5000-8000-1d6e87c7fbde', 'refund.succeeded'))).toBe('ignored');
    expect(await handlePaymentNotification(ctx, notification('2f3b588d-000f-5000-8000-1d6e87c7fbde'))).toBe('unknown_payment');
    expect(yookassaCalls()).toBe(calls);
    expect(await balance()).toBe(3);
  });

  it('reconciles: closes interrupted creates, credits paid payments, keeps unknown ones open and waits before asking again', async () => {
    const paid = await startPayment(ctx, { user: buyer(), tariffId: 'basic' });
    await settleAtYookassa(paid.externalPaymentId, 'pay');
    const open = await startPayment(ctx, { user: buyer(), tariffId: 'single' });
    await ctx.db.run(`INSERT INTO payments (id, userId, amount_kopecks, credits, currency, status, provider, plan, idempotence_key, createdAt, updatedAt)
                VALUES ('pay_interrupted', ?, 99050, 50, 'RUB', 'pending', 'yookassa', 'basic', 'key-interrupted', ?, ?)`, [userId, clock.now(), clock.now()]);
    await ctx.db.run(`INSERT INTO payments (id, userId, externalPaymentId, amount_kopecks, credits, currency, status, provider, plan, idempotence_key, createdAt, updatedAt)
                VALUES ('pay_unknown', ?, '2f3b588d-000f-5000-8000-1d6e87c7fbde', 99050, 50, 'RUB', 'pending', 'yookassa', 'basic', 'key-unknown', ?, ?)`, [userId, clock.now(), clock.now()]);
    clock.advance(CREATE_ABANDONED_AFTER_MS + 1);

    expect(await reconcilePendingPayments(ctx)).toEqual({ checked: 3, changed: 1, failed: 0, abandoned: 1, unknown: 1 });
    expect(await getPayment(ctx.db, paid.paymentId)).toMatchObject({ applied: true });
    expect(await getPayment(ctx.db, open.paymentId)).toMatchObject({ status: 'pending', applied: false });
    expect(await getPayment(ctx.db, 'pay_interrupted')).toMatchObject({ status: 'failed', lastError: 'create call interrupted' });
    expect(await getPayment(ctx.db, 'pay_unknown')).toMatchObject({ status: 'pending', unknownChecks: 1, nextCheckAt: expect.any(Number) });

    // The unknown one is not asked about again before its next check.
    expect(await reconcilePendingPayments(ctx)).toEqual({ checked: 1, changed: 0, failed: 0, abandoned: 0, unknown: 0 });
    expect(await balance()).toBe(3 + findTariff(ctx.config.pricing, 'basic')!.credits);
    expect(await findLedgerMismatches(ctx.db)).toEqual([]);
  });
});
