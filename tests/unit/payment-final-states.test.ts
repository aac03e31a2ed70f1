import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { findLedgerMismatches } from '../../src/lib/billing/ledger.ts';
import { applyPaymentState, type ApplyOutcome } from '../../src/lib/billing/apply-payment.ts';
import type { BillingDeps } from '../../src/lib/billing/billing-deps.ts';
import { getPayment, type Payment } from '../../src/lib/billing/payment-store.ts';
import { createTelegramNotifier } from '../../src/lib/notify/telegram-notifier.ts';
import { recentAlerts } from '../../src/lib/notify/alert-log.ts';
import { createYookassaClient } from '../../src/lib/providers/yookassa/client.ts';
import type { YookassaPayment } from '../../src/lib/providers/yookassa/schemas.ts';
import { pendingPayment, yookassaAnswer } from '../helpers/payments.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';

/**
 * The final-state guards of `applyPaymentState`, reached directly. The webhook, the check
 * endpoint and reconciliation each read a payment while it is open and apply YooKassa's
 * answer later; another path may have settled it in between. Whatever that late answer
 * says, a settled payment stays as it is: no cancel over a credit, no downgrade to
 * `waiting_for_capture`, no second credit (`applied = 0`), no review alert over a credit.
 * (The webhook's `already_final` return stops most late answers before they get here, so
 * only a direct call sees these guards.)
 */

const { config, secrets } = loadConfig({ NODE_ENV: 'test' });
const T0 = Date.UTC(2026, 0, 1);

let db: Db;
let clock: ManualClock;
let ctx: BillingDeps;
let userId: string;

beforeEach(async () => {
  db = openDatabase(':memory:');
  migrate(db);
  clock = new ManualClock(T0);
  const log = createLogger('silent');
  ctx = {
    db,
    config,
    clock,
    log,
    // Never called: every answer here is handed in as if our GET had returned it.
    yookassa: createYookassaClient({ ...config.yookassa, secretKey: secrets.yookassaSecretKey, log }),
    notifier: createTelegramNotifier({ db, log, clock, telegram: null }),
  };
  userId = await seedUserWithPhoto(db, { now: T0 });
});

/** Everything a payment's settlement may change: the row (but when it was last asked about), the buyer's money and plan, alerts. */
async function moneyState(paymentId: string) {
  await ctx.notifier.flush();
  const { lastCheckedAt: _checked, ...row } = await db.get('SELECT * FROM payments WHERE id = ?', [paymentId]) as Record<string, unknown>;
  return {
    row,
    user: await db.get('SELECT generation_balance, plan FROM users WHERE id = ?', [userId]),
    ledger: await db.all('SELECT * FROM credit_ledger ORDER BY id'),
    alerts: (await recentAlerts(db, 100)).length,
  };
}

/** A buyer opened the payment page: `open` is what every path read before anything settled it. */
async function openBasicPayment(): Promise<Payment> {
  return await pendingPayment(db, config, { userId, plan: 'basic', now: T0 });
}

const SETTLED: Array<[string, (open: Payment) => YookassaPayment, ApplyOutcome]> = [
  ['credited', (open) => yookassaAnswer(open, 'succeeded'), 'credited'],
  ['paid but held for review (amount differs)', (open) => yookassaAnswer(open, 'succeeded', { amount: { value: '1.00', currency: 'RUB' } }), 'mismatch'],
  ['canceled', (open) => yookassaAnswer(open, 'canceled'), 'canceled'],
];

/** Late answers, and what `applyPaymentState` reports for each on a settled payment. */
const LATE_ANSWERS: Array<[string, (open: Payment) => YookassaPayment, ApplyOutcome]> = [
  ['canceled', (open) => yookassaAnswer(open, 'canceled', { cancellation_details: { party: 'merchant', reason: 'canceled_by_merchant' } }), 'unchanged'],
  ['waiting_for_capture', (open) => yookassaAnswer(open, 'waiting_for_capture'), 'waiting_for_capture'],
  ['pending', (open) => yookassaAnswer(open, 'pending'), 'pending'],
  ['succeeded with another amount', (open) => yookassaAnswer(open, 'succeeded', { amount: { value: '2.00', currency: 'RUB' } }), 'mismatch'],
];

/** Past the alert de-duplication window: a repeated alert would be recorded again. */
const LATER = 10 * 60_000;

describe('payment final states, applied directly', () => {
  it.each(
    SETTLED.flatMap(([settled, settle, outcome]) =>
      LATE_ANSWERS.map(([late, answer, lateOutcome]) => ({ settled, settle, outcome, late, answer, lateOutcome })),
    ),
  )('a late $late answer read while the payment was open leaves a $settled payment as it is', async ({ settle, outcome, answer, lateOutcome }) => {
    const open = await openBasicPayment();
    expect(await applyPaymentState(ctx, open, settle(open))).toBe(outcome);
    const settled = await moneyState(open.id);

    clock.advance(LATER);
    expect(await applyPaymentState(ctx, open, answer(open))).toBe(lateOutcome);
    expect(await moneyState(open.id)).toEqual(settled);
  });

  it('credits once when two paths apply the same success (applied = 0)', async () => {
    const open = await openBasicPayment();
    expect(await applyPaymentState(ctx, open, yookassaAnswer(open, 'succeeded'))).toBe('credited');
    const credited = await moneyState(open.id);
    expect(credited.user).toEqual({ generation_balance: 3 + open.credits, plan: 'basic' });
    expect(credited.row).toMatchObject({ status: 'succeeded', applied: 1, appliedAt: T0 });

    clock.advance(LATER);
    expect(await applyPaymentState(ctx, open, yookassaAnswer(open, 'succeeded'))).toBe('already_applied');
    expect(await moneyState(open.id)).toEqual(credited);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('lets a canceled answer cancel an open payment, and a held one alert once', async () => {
    const canceled = await openBasicPayment();
    expect(await applyPaymentState(ctx, canceled, yookassaAnswer(canceled, 'canceled'))).toBe('canceled');
    expect((await moneyState(canceled.id)).row).toMatchObject({ status: 'canceled', cancellation_party: 'yoo_money', cancellation_reason: 'expired_on_confirmation' });

    const held = await openBasicPayment();
    expect(await applyPaymentState(ctx, held, yookassaAnswer(held, 'waiting_for_capture'))).toBe('waiting_for_capture');
    expect(await applyPaymentState(ctx, held, yookassaAnswer(held, 'waiting_for_capture'))).toBe('waiting_for_capture');
    const state = await moneyState(held.id);
    expect(state.row).toMatchObject({ status: 'waiting_for_capture', applied: 0 });
    expect(state.alerts).toBe(1);
    expect(state.user).toEqual({ generation_balance: 3, plan: 'free' });
  });

  it.each<[string, (answer: YookassaPayment) => YookassaPayment]>([
    ['the same amount in another currency', (answer) => ({ ...answer, amount: { ...answer.amount, currency: 'USD' } })],
    ['another buyer', (answer) => ({ ...answer, metadata: { ...answer.metadata, userId: 'usr_someone_else' } })],
    ['another tariff', (answer) => ({ ...answer, metadata: { ...answer.metadata, plan: 'professional' } })],
    ['no metadata', ({ metadata: _none, ...answer }) => answer],
  ])('holds a success with %s for review: no credit, one alert', async (_name, forge) => {
    const open = await openBasicPayment();
    expect(await applyPaymentState(ctx, open, forge(yookassaAnswer(open, 'succeeded')))).toBe('mismatch');
    const state = await moneyState(open.id);
    expect(state.row).toMatchObject({ status: 'succeeded', applied: 0, last_error: expect.stringMatching(/^not credited: /) });
    expect(state.user).toEqual({ generation_balance: 3, plan: 'free' });
    expect(state.alerts).toBe(1);
  });

  it('refuses to apply the answer about another YooKassa payment', async () => {
    const open = await openBasicPayment();
    const other = await openBasicPayment();
    await expect(async () => applyPaymentState(ctx, open, yookassaAnswer(other, 'succeeded'))).rejects.toThrow(/at YooKassa, got/);
    expect((await moneyState(open.id)).row).toMatchObject({ status: 'pending', applied: 0 });
  });

  it('credits each payment under its own reference, and a one-off purchase leaves the plan alone', async () => {
    const single = await pendingPayment(db, config, { userId, plan: 'single', now: T0 });
    const basic = await openBasicPayment();
    expect(await applyPaymentState(ctx, single, yookassaAnswer(single, 'succeeded'))).toBe('credited');
    expect(await db.value('SELECT COUNT(*) FROM admin_subscriptions WHERE userId = ?', [userId])).toBe(0);
    expect(await applyPaymentState(ctx, basic, yookassaAnswer(basic, 'succeeded'))).toBe('credited');
    const state = await moneyState(basic.id);
    expect(state.user).toEqual({ generation_balance: 3 + single.credits + basic.credits, plan: 'basic' });
    expect((await db.all<{ reference: string }>(`SELECT reference FROM credit_ledger WHERE kind = 'payment' ORDER BY id`)).map((r) => r.reference)).toEqual([
      `payment:${single.id}`,
      `payment:${basic.id}`,
    ]);
    expect(await getPayment(db, basic.id)).toMatchObject({ applied: true, status: 'succeeded' });
    expect(await db.get('SELECT plan, isPaid FROM admin_subscriptions WHERE userId = ?', [userId])).toEqual({ plan: 'basic', isPaid: 1 });
  });
});
