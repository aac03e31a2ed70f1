import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/lib/clock.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { findLedgerMismatches } from '../../src/lib/billing/ledger.ts';
import { applyPaymentState, type ApplyOutcome, type BillingContext, type Payment } from '../../src/lib/billing/payments.ts';
import { createTelegramNotifier } from '../../src/lib/notify/telegram-notifier.ts';
import { recentAlerts } from '../../src/lib/notify/alert-log.ts';
import { createYookassaClient } from '../../src/lib/providers/yookassa/client.ts';
import type { YookassaPayment } from '../../src/lib/providers/yookassa/schemas.ts';
import { pendingPayment, yookassaAnswer } from '../helpers/payments.ts';
import { seedUser } from '../helpers/seed.ts';

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
let ctx: BillingContext;
let userId: string;

beforeEach(() => {
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
  userId = seedUser(db, { now: T0 });
});

/** Everything a payment's settlement may change: the row (but when it was last asked about), the buyer's money and plan, alerts. */
async function moneyState(paymentId: string) {
  await ctx.notifier.flush();
  const { lastCheckedAt: _checked, ...row } = db.prepare('SELECT * FROM payments WHERE id = ?').get(paymentId) as Record<string, unknown>;
  return {
    row,
    user: db.prepare('SELECT generation_balance, plan FROM users WHERE id = ?').get(userId),
    ledger: db.prepare('SELECT * FROM credit_ledger ORDER BY id').all(),
    alerts: recentAlerts(db, 100).length,
  };
}

/** A buyer opened the payment page: `open` is what every path read before anything settled it. */
function openBasicPayment(): Payment {
  return pendingPayment(db, config, { userId, plan: 'basic', now: T0 });
}

const SETTLED: Array<[string, (open: Payment) => YookassaPayment, ApplyOutcome]> = [
  ['credited', (open) => yookassaAnswer(open, 'succeeded'), 'credited'],
  ['paid but held for review (amount differs)', (open) => yookassaAnswer(open, 'succeeded', { amount: { value: '1.00', currency: 'RUB' } }), 'mismatch'],
  ['canceled', (open) => yookassaAnswer(open, 'canceled'), 'canceled'],
];

const LATE_ANSWERS: Array<[string, (open: Payment) => YookassaPayment]> = [
  ['canceled', (open) => yookassaAnswer(open, 'canceled', { cancellation_details: { party: 'merchant', reason: 'canceled_by_merchant' } })],
  ['waiting_for_capture', (open) => yookassaAnswer(open, 'waiting_for_capture')],
  ['pending', (open) => yookassaAnswer(open, 'pending')],
  ['succeeded with another amount', (open) => yookassaAnswer(open, 'succeeded', { amount: { value: '2.00', currency: 'RUB' } })],
];

describe('payment final states, applied directly', () => {
  it.each(SETTLED.flatMap(([settled, settle, outcome]) => LATE_ANSWERS.map(([late, answer]) => ({ settled, settle, outcome, late, answer }))))(
    'a late $late answer read while the payment was open leaves a $settled payment as it is',
    async ({ settle, outcome, answer }) => {
      const open = openBasicPayment();
      expect(applyPaymentState(ctx, open, settle(open))).toBe(outcome);
      const settled = await moneyState(open.id);

      clock.advance(60_000);
      applyPaymentState(ctx, open, answer(open));
      expect(await moneyState(open.id)).toEqual(settled);
    },
  );

  it('credits once when two paths apply the same success (applied = 0)', async () => {
    const open = openBasicPayment();
    expect(applyPaymentState(ctx, open, yookassaAnswer(open, 'succeeded'))).toBe('credited');
    const credited = await moneyState(open.id);
    expect(credited.user).toEqual({ generation_balance: 3 + open.credits, plan: 'basic' });
    expect(credited.row).toMatchObject({ status: 'succeeded', applied: 1, appliedAt: T0 });

    clock.advance(60_000);
    expect(applyPaymentState(ctx, open, yookassaAnswer(open, 'succeeded'))).toBe('already_applied');
    expect(await moneyState(open.id)).toEqual(credited);
    expect(findLedgerMismatches(db)).toEqual([]);
  });

  it('lets a canceled answer cancel an open payment, and a held one alert once', async () => {
    const canceled = openBasicPayment();
    expect(applyPaymentState(ctx, canceled, yookassaAnswer(canceled, 'canceled'))).toBe('canceled');
    expect((await moneyState(canceled.id)).row).toMatchObject({ status: 'canceled', cancellation_party: 'yoo_money', cancellation_reason: 'expired_on_confirmation' });

    const held = openBasicPayment();
    expect(applyPaymentState(ctx, held, yookassaAnswer(held, 'waiting_for_capture'))).toBe('waiting_for_capture');
    expect(applyPaymentState(ctx, held, yookassaAnswer(held, 'waiting_for_capture'))).toBe('waiting_for_capture');
    const state = await moneyState(held.id);
    expect(state.row).toMatchObject({ status: 'waiting_for_capture', applied: 0 });
    expect(state.alerts).toBe(1);
    expect(state.user).toEqual({ generation_balance: 3, plan: 'free' });
  });
});
