import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { findLedgerMismatches, listLedgerEntries } from '../../src/lib/billing/ledger.ts';
import { getPayment, listPaymentsNeedingReview, listStalePendingPayments } from '../../src/lib/billing/payment-store.ts';
import { reconcilePendingPayments } from '../../src/lib/billing/reconciler.ts';
import { startPayment } from '../../src/lib/billing/start-payment.ts';
import { expireForgottenSandboxPayments } from '../../src/lib/billing/sandbox-payments.ts';
import { startBackgroundTasks, stopBackgroundTasks } from '../../src/lib/context.ts';
import type { NotificationRecord, PaymentObject, YookassaEmulator } from '../../sandbox/yookassa/index.ts';

/** Short retry timings so fault tests take milliseconds. */
const FAST_RETRIES = { YOOKASSA_RETRY_BASE_MS: '20', YOOKASSA_RETRY_MAX_DELAY_MS: '300', YOOKASSA_TIMEOUT_MS: '3000' };

interface CheckBody {
  success: boolean;
  paymentId: string;
  status: string;
  state: string;
  credits: number;
  applied: boolean;
  balance: number;
  userPlan: string;
  message: string;
  cancellation: { party: string | null; reason: string | null } | null;
  code?: string;
  error?: string;
}

function helpers(getStack: () => TestStack) {
  const emulator = () => getStack().sandbox.emulator<YookassaEmulator>('yookassa');
  return {
    emulator,
    remotePayments: (): PaymentObject[] => emulator().state().payments,
    notificationsFor: (externalId: string): NotificationRecord[] =>
      emulator().state().notifications.filter((n) => n.paymentId === externalId),
    async control(body: unknown): Promise<void> {
      const res = await fetch(`${getStack().sandbox.url}/_sandbox/yookassa/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, await res.clone().text()).toBe(200);
    },
    async create(cookie: string, plan: string) {
      const res = await apiFetch(getStack().app.url, '/api/payments/yookassa/create', { cookie, json: { plan } });
      return { res, body: (await res.json()) as { success: boolean; paymentId: string; externalPaymentId: string; confirmationUrl: string; code?: string; error?: string } };
    },
    async check(cookie: string, paymentId: string): Promise<{ status: number; body: CheckBody }> {
      const res = await apiFetch(getStack().app.url, `/api/payments/yookassa/check?paymentId=${encodeURIComponent(paymentId)}`, { cookie });
      return { status: res.status, body: (await res.json()) as CheckBody };
    },
    /** Opens the confirmation page and submits its form the way a browser does. */
    async submitCheckout(confirmationUrl: string, action: 'pay' | 'cancel', extra: Record<string, string> = {}): Promise<Response> {
      const html = await (await fetch(confirmationUrl)).text();
      const formAction = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
      expect(formAction, 'the checkout page has a form').toBeDefined();
      const fields = new URLSearchParams();
      for (const match of html.matchAll(/<input name="([^"]+)"[^>]*value="([^"]*)"/g)) fields.set(match[1]!, match[2]!);
      const firstOption = /<select name="([^"]+)">\s*<option value="([^"]+)"/.exec(html);
      if (firstOption) fields.set(firstOption[1]!, firstOption[2]!);
      fields.set('action', action);
      for (const [key, value] of Object.entries(extra)) fields.set(key, value);
      return fetch(new URL(formAction!, confirmationUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: fields,
        redirect: 'manual',
      });
    },
    async postWebhook(body: unknown): Promise<Response> {
      return fetch(`${getStack().app.url}/api/payments/yookassa/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    },
  };
}

async function paymentLedgerLines(stack: TestStack, userId: string) {
  return (await listLedgerEntries(stack.app.ctx.db, userId)).filter((e) => e.kind === 'payment');
}

/** Captures what the app logs at error level (payment problems are logged as well as alerted). */
function captureErrors(stack: TestStack): string[] {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  stack.app.ctx.log = createLogger('error', sink);
  return lines;
}

describe('payments through the sandbox YooKassa', () => {
  let stack: TestStack;
  const h = helpers(() => stack);
  beforeAll(async () => {
    stack = await startStack({ env: FAST_RETRIES });
  });
  afterAll(async () => {
    await stack.stop();
  });
  afterEach(async () => {
    expect(await findLedgerMismatches(stack.app.ctx.db)).toEqual([]);
  });

  it('lists the tariffs publicly with prices and the price of a video', async () => {
    const res = await apiFetch(stack.app.url, '/api/tariffs');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { tariffs: Array<Record<string, unknown>> };
    expect(body.tariffs).toEqual([
      expect.objectContaining({ id: 'single', name: 'Разовая покупка', credits: 10, price: '390.00', pricePerVideo: '39.00', plan: null }),
      expect.objectContaining({ id: 'basic', name: 'Базовый', credits: 50, price: '1490.00', pricePerVideo: '29.80', plan: 'basic' }),
      expect.objectContaining({ id: 'professional', credits: 200, price: '4990.00', pricePerVideo: '24.95', plan: 'professional' }),
    ]);
  });

  it('buys Basic through the confirmation page: the buyer is back first, the webhook a moment later, then repeats — +50 exactly once', async () => {
    const { user, cookie } = await createSignedInUser(stack.app.ctx);
    const { res, body } = await h.create(cookie, 'basic');
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ success: true, paymentId: expect.stringMatching(/^pay_/), externalPaymentId: expect.any(String) });
    expect(body.confirmationUrl).toBe(`${stack.sandbox.url}/yookassa/checkout/${body.externalPaymentId}`);

    const remote = h.remotePayments().find((p) => p.id === body.externalPaymentId)!;
    expect(remote).toMatchObject({
      amount: { value: '1490.00', currency: 'RUB' },
      metadata: { userId: user.id, paymentId: body.paymentId, plan: 'basic' },
      description: 'Beem — тариф «Базовый», кредитов: 50',
    });
    expect(remote.confirmation?.return_url).toBe(`${stack.app.url}/billing?payment=${body.paymentId}`);

    const back = await h.submitCheckout(body.confirmationUrl, 'pay');
    expect(back.status).toBe(303);
    expect(back.headers.get('location')).toBe(`${stack.app.url}/billing?payment=${body.paymentId}`);
    // YooKassa promises no order: the buyer is back first and the return page's check finds
    // the payment paid by itself; the webhook comes after the return, and the app accepts it.
    const { body: first } = await h.check(cookie, body.paymentId);
    expect(first).toMatchObject({ state: 'credited', balance: 53 });
    await h.emulator().settled();
    const [notification] = h.notificationsFor(body.externalPaymentId);
    expect(notification).toMatchObject({ event: 'payment.succeeded', status: 200 });
    expect(Date.parse(notification!.at)).toBeGreaterThanOrEqual(Date.parse(h.emulator().state().returns[body.externalPaymentId]!));

    await h.control({ action: 'resend_notification', paymentId: body.externalPaymentId });
    for (let i = 0; i < 3; i += 1) {
      const { status, body: checked } = await h.check(cookie, body.paymentId);
      expect(status).toBe(200);
      expect(checked).toMatchObject({ status: 'succeeded', state: 'credited', applied: true, credits: 50, balance: 53, userPlan: 'basic' });
    }
    await h.control({ action: 'resend_notification', paymentId: body.externalPaymentId });
    expect(h.notificationsFor(body.externalPaymentId).map((n) => n.status)).toEqual([200, 200, 200]);

    expect(await paymentLedgerLines(stack, user.id)).toEqual([
      expect.objectContaining({ delta: 50, reference: `payment:${body.paymentId}`, balanceAfter: 53 }),
    ]);
    const subscription = await stack.app.ctx.db.get('SELECT plan, isPaid, provider, expiresAt FROM admin_subscriptions WHERE userId = ?', [user.id]);
    expect(subscription).toEqual({ plan: 'basic', isPaid: 1, provider: 'yookassa', expiresAt: null });
  });

  it('buys Professional when check comes first and the webhook later, twice — +200 exactly once', async () => {
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 0 });
    const { body } = await h.create(cookie, 'professional');
    await h.control({ fault: { kind: 'drop_notification' } });
    const back = await h.submitCheckout(body.confirmationUrl, 'pay');
    expect(back.status).toBe(303);

    for (let i = 0; i < 3; i += 1) {
      const { body: checked } = await h.check(cookie, body.paymentId);
      expect(checked).toMatchObject({ status: 'succeeded', applied: true, credits: 200, balance: 200, userPlan: 'professional' });
    }
    await h.control({ action: 'resend_notification', paymentId: body.externalPaymentId });
    await h.control({ action: 'resend_notification', paymentId: body.externalPaymentId });
    expect(h.notificationsFor(body.externalPaymentId).map((n) => n.status)).toEqual(['dropped', 200, 200]);
    expect((await h.check(cookie, body.paymentId)).body.balance).toBe(200);
    expect(await paymentLedgerLines(stack, user.id)).toHaveLength(1);
  });

  it('credits once when many checks and webhooks race for one payment', async () => {
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 1 });
    const { body } = await h.create(cookie, 'basic');
    await h.control({ fault: { kind: 'drop_notification' } });
    await h.control({ action: 'pay', paymentId: body.externalPaymentId });
    const notification = { type: 'notification', event: 'payment.succeeded', object: { id: body.externalPaymentId } };
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => h.check(cookie, body.paymentId)),
      ...Array.from({ length: 10 }, () => h.postWebhook(notification).then((r) => ({ status: r.status, body: null }))),
    ]);
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect((await h.check(cookie, body.paymentId)).body.balance).toBe(51);
    expect(await paymentLedgerLines(stack, user.id)).toHaveLength(1);
  });

  it('ignores a forged "succeeded" notification for an unpaid payment, and unknown ids', async () => {
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 2 });
    const { body } = await h.create(cookie, 'professional');
    const forged = await h.postWebhook({
      type: 'notification',
      event: 'payment.succeeded',
      object: { id: body.externalPaymentId, status: 'succeeded', paid: true, amount: { value: '4990.00', currency: 'RUB' }, metadata: { userId: user.id, paymentId: body.paymentId } },
    });
    expect(forged.status).toBe(200);
    expect(await forged.json()).toMatchObject({ outcome: 'pending' });
    const unknown = await h.postWebhook({ type: 'notification', event: 'payment.succeeded', object: { id: '2f3b588d-000f-5000-8000-1d6e87c7fbde' } });
    expect(await unknown.json()).toMatchObject({ outcome: 'unknown_payment' });
    const garbage = await fetch(`${stack.app.url}/api/payments/yookassa/webhook`, { method: 'POST', body: 'not json' });
    expect(garbage.status).toBe(200);
    const { body: checked } = await h.check(cookie, body.paymentId);
    expect(checked).toMatchObject({ status: 'pending', state: 'pending', applied: false, balance: 2 });
    expect(await paymentLedgerLines(stack, user.id)).toEqual([]);
  });

  it('does not downgrade a credited payment when a stale waiting_for_capture event arrives late', async () => {
    const { cookie } = await createSignedInUser(stack.app.ctx, { balance: 0 });
    const { body } = await h.create(cookie, 'single');
    await h.control({ fault: { kind: 'out_of_order_notification' } });
    await h.control({ fault: { kind: 'duplicate_notification' } });
    await h.control({ action: 'pay', paymentId: body.externalPaymentId });
    expect(h.notificationsFor(body.externalPaymentId).map((n) => [n.event, n.status])).toEqual([
      ['payment.succeeded', 200],
      ['payment.succeeded', 200],
      ['payment.waiting_for_capture', 200],
    ]);
    const { body: checked } = await h.check(cookie, body.paymentId);
    expect(checked).toMatchObject({ status: 'succeeded', applied: true, balance: 10, userPlan: 'free' });
  });

  it('records a canceled payment with its reason and a plain message, crediting nothing', async () => {
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 3 });
    const { body } = await h.create(cookie, 'basic');
    const back = await h.submitCheckout(body.confirmationUrl, 'cancel', { reason: 'insufficient_funds' });
    expect(back.status).toBe(303);
    const { body: checked } = await h.check(cookie, body.paymentId);
    expect(checked).toMatchObject({
      status: 'canceled',
      state: 'canceled',
      applied: false,
      balance: 3,
      cancellation: { party: 'payment_network', reason: 'insufficient_funds' },
      message: 'На карте недостаточно средств. Пополните её или оплатите другой картой.',
    });
    expect(await getPayment(stack.app.ctx.db, body.paymentId)).toMatchObject({ cancellationParty: 'payment_network', cancellationReason: 'insufficient_funds' });
    expect(await paymentLedgerLines(stack, user.id)).toEqual([]);
    expect(await stack.app.ctx.db.value('SELECT plan FROM users WHERE id = ?', [user.id])).toBe('free');
  });

  it('shows an abandoned payment as expired once YooKassa cancels it, crediting nothing', async () => {
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 0 });
    const { body } = await h.create(cookie, 'single');
    await h.control({ action: 'advance_clock', ms: 60 * 60 * 1000 });
    expect(await getPayment(stack.app.ctx.db, body.paymentId)).toMatchObject({ status: 'canceled', cancellationReason: 'expired_on_confirmation' });
    const { body: checked } = await h.check(cookie, body.paymentId);
    // YooKassa reports «Отменить» on its page and walking away alike: the words fit both.
    expect(checked).toMatchObject({
      status: 'canceled',
      balance: 0,
      message: 'Оплата не завершена — вы отменили её или время вышло. Деньги не списаны; выберите тариф ещё раз, когда будете готовы.',
    });
    expect(await paymentLedgerLines(stack, user.id)).toEqual([]);
  });

  it('retries a create whose answer was lost (500) with the same key: one payment at YooKassa', async () => {
    const { cookie } = await createSignedInUser(stack.app.ctx);
    const before = h.remotePayments().length;
    await h.control({ fault: { kind: 'succeed_then_500', on: 'create' } });
    const { res, body } = await h.create(cookie, 'basic');
    expect(res.status).toBe(200);
    expect(h.remotePayments()).toHaveLength(before + 1);
    expect(h.remotePayments().at(-1)!.id).toBe(body.externalPaymentId);
    expect(await getPayment(stack.app.ctx.db, body.paymentId)).toMatchObject({ status: 'pending', externalPaymentId: body.externalPaymentId });
  });

  it('waits out a 429 for retry_after and a 202 on read, then goes on', async () => {
    const { cookie } = await createSignedInUser(stack.app.ctx);
    await h.control({ fault: { kind: 'http_429', on: 'create', retryAfterMs: 150 } });
    const started = Date.now();
    const { res, body } = await h.create(cookie, 'single');
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await h.control({ fault: { kind: 'drop_notification' } });
    await h.control({ action: 'pay', paymentId: body.externalPaymentId });
    await h.control({ fault: { kind: 'http_202', on: 'get', retryAfterMs: 30 } });
    expect((await h.check(cookie, body.paymentId)).body).toMatchObject({ status: 'succeeded', applied: true });
  });

  it('tells the buyer to retry later when YooKassa keeps failing, and marks the attempt failed', async () => {
    const { user, cookie } = await createSignedInUser(stack.app.ctx);
    await h.control({ fault: { kind: 'http_500', on: 'create' }, count: 3 });
    const { res, body } = await h.create(cookie, 'basic');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(body).toMatchObject({ success: false, code: 'PAYMENT_PROVIDER_UNAVAILABLE', error: expect.stringContaining('деньги не списывались') });
    const history = (await (await apiFetch(stack.app.url, '/api/payments', { cookie })).json()) as { payments: Array<{ status: string }> };
    expect(history.payments).toEqual([expect.objectContaining({ status: 'failed', state: 'failed', statusLabel: 'Не создан' })]);
    expect(await paymentLedgerLines(stack, user.id)).toEqual([]);
  });

  it('does not credit a paid payment whose amount differs from the order, and reports it', async () => {
    const errors = captureErrors(stack);
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 0 });
    const { body } = await h.create(cookie, 'basic');
    // As if the order had been for another price than the one YooKassa charged.
    await stack.app.ctx.db.run('UPDATE payments SET amount_kopecks = 99000 WHERE id = ?', [body.paymentId]);
    await h.control({ action: 'pay', paymentId: body.externalPaymentId });
    await h.control({ action: 'resend_notification', paymentId: body.externalPaymentId });
    const { body: checked } = await h.check(cookie, body.paymentId);
    expect(checked).toMatchObject({ status: 'succeeded', state: 'review', applied: false, balance: 0, userPlan: 'free' });
    expect(checked.message).toContain('требует ручной проверки');
    expect((await getPayment(stack.app.ctx.db, body.paymentId))!.lastError).toContain('amount 1490.00, expected 990.00');
    const reports = errors.filter((line) => line.includes('"stage":"PAYMENT"'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain(body.externalPaymentId);
    expect((await listPaymentsNeedingReview(stack.app.ctx.db)).map((p) => p.id)).toContain(body.paymentId);
    await stack.app.ctx.notifier.flush();
    const alerts = await stack.app.ctx.db.all(`SELECT stage, userId, message FROM operator_alerts WHERE stage = 'PAYMENT' AND message LIKE ?`, [`%${body.paymentId}%`]) as Array<{ stage: string; userId: string; message: string }>;
    expect(alerts).toEqual([expect.objectContaining({ userId: user.id, message: expect.stringContaining(body.externalPaymentId) })]);
    expect(await paymentLedgerLines(stack, user.id)).toEqual([]);
  });

  it("answers 403 user mismatch for another user's payment, 404 for an unknown one, 401 without a session", async () => {
    const owner = await createSignedInUser(stack.app.ctx);
    const other = await createSignedInUser(stack.app.ctx);
    const { body } = await h.create(owner.cookie, 'single');
    const mismatch = await h.check(other.cookie, body.paymentId);
    expect(mismatch.status).toBe(403);
    expect(mismatch.body).toMatchObject({ success: false, code: 'USER_MISMATCH', error: expect.stringContaining('user mismatch') });
    expect((await h.check(owner.cookie, 'pay_0_nothing')).status).toBe(404);
    const missing = await apiFetch(stack.app.url, '/api/payments/yookassa/check', { cookie: owner.cookie });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'PAYMENT_ID_REQUIRED' });
    expect((await apiFetch(stack.app.url, `/api/payments/yookassa/check?paymentId=${body.paymentId}`)).status).toBe(401);
    expect((await apiFetch(stack.app.url, '/api/payments/yookassa/create', { json: { plan: 'basic' } })).status).toBe(401);
    const unknownPlan = await h.create(owner.cookie, 'platinum');
    expect(unknownPlan.res.status).toBe(400);
    expect(unknownPlan.body).toMatchObject({ code: 'UNKNOWN_TARIFF' });
  });

  it("lists only the user's own payments, newest first", async () => {
    const { cookie } = await createSignedInUser(stack.app.ctx);
    const first = await h.create(cookie, 'single');
    const second = await h.create(cookie, 'basic');
    const res = await apiFetch(stack.app.url, '/api/payments', { cookie, headers: { 'accept-language': 'en' } });
    const body = (await res.json()) as { payments: Array<{ paymentId: string; amount: string; statusLabel: string }> };
    expect(body.payments.map((p) => p.paymentId)).toEqual([second.body.paymentId, first.body.paymentId]);
    expect(body.payments[0]).toMatchObject({ amount: '1490.00', currency: 'RUB', statusLabel: 'Awaiting payment' });
  });

  it('reconciliation settles a payment whose webhook never came', async () => {
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 0 });
    const { body } = await h.create(cookie, 'basic');
    await h.control({ fault: { kind: 'drop_notification' } });
    await h.control({ action: 'pay', paymentId: body.externalPaymentId });
    expect(await getPayment(stack.app.ctx.db, body.paymentId)).toMatchObject({ status: 'pending', applied: false });

    // The background task runs once at start.
    startBackgroundTasks(stack.app.ctx);
    try {
      await expect.poll(async () => (await getPayment(stack.app.ctx.db, body.paymentId))?.applied, { timeout: 5000 }).toBe(true);
    } finally {
      await stopBackgroundTasks(stack.app.ctx);
    }
    const again = await reconcilePendingPayments(stack.app.ctx);
    expect(again.changed).toBe(0);
    expect(await paymentLedgerLines(stack, user.id)).toEqual([expect.objectContaining({ delta: 50 })]);
  });
});

describe('payments: webhook allow-list, receipts and stale payments', () => {
  it('refuses notifications from addresses outside the allow-list', async () => {
    const stack = await startStack({ env: { ...FAST_RETRIES, YOOKASSA_WEBHOOK_ALLOWED_IPS: '185.71.76.0/27,2a02:5180::/32' } });
    const h = helpers(() => stack);
    try {
      const { cookie } = await createSignedInUser(stack.app.ctx, { balance: 0 });
      const { body } = await h.create(cookie, 'basic');
      await h.control({ action: 'pay', paymentId: body.externalPaymentId });
      expect(h.notificationsFor(body.externalPaymentId)[0]).toMatchObject({ status: 403 });
      expect(await getPayment(stack.app.ctx.db, body.paymentId)).toMatchObject({ status: 'pending', applied: false });
      const direct = await h.postWebhook({ type: 'notification', event: 'payment.succeeded', object: { id: body.externalPaymentId } });
      expect(direct.status).toBe(403);
      expect(await direct.json()).toMatchObject({ code: 'WEBHOOK_FORBIDDEN' });
      // A forwarded header means nothing without TRUST_PROXY.
      const spoofed = await fetch(`${stack.app.url}/api/payments/yookassa/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-real-ip': '185.71.76.1', 'x-forwarded-for': '185.71.76.1' },
        body: JSON.stringify({ type: 'notification', event: 'payment.succeeded', object: { id: body.externalPaymentId } }),
      });
      expect(spoofed.status).toBe(403);
      // The buyer's own check still settles it.
      expect((await h.check(cookie, body.paymentId)).body).toMatchObject({ applied: true, balance: 50 });
      expect(await findLedgerMismatches(stack.app.ctx.db)).toEqual([]);
    } finally {
      await stack.stop();
    }
  });

  it('trusts the proxy-set address only with TRUST_PROXY', async () => {
    const stack = await startStack({ env: { ...FAST_RETRIES, TRUST_PROXY: 'true', YOOKASSA_WEBHOOK_ALLOWED_IPS: '185.71.76.0/27' } });
    const h = helpers(() => stack);
    try {
      const notification = { type: 'notification', event: 'payment.succeeded', object: { id: 'unknown-id' } };
      const viaProxy = await fetch(`${stack.app.url}/api/payments/yookassa/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-real-ip': '185.71.76.7' },
        body: JSON.stringify(notification),
      });
      expect(viaProxy.status).toBe(200);
      expect((await h.postWebhook(notification)).status).toBe(403);
    } finally {
      await stack.stop();
    }
  });

  it('sends 54-FZ receipt data when receipts are enabled', async () => {
    const stack = await startStack({ env: { ...FAST_RETRIES, YOOKASSA_RECEIPTS_ENABLED: 'true', YOOKASSA_VAT_CODE: '4' } });
    const h = helpers(() => stack);
    try {
      const { user, cookie } = await createSignedInUser(stack.app.ctx, { email: 'buyer@example.ru' });
      const { res, body } = await h.create(cookie, 'professional');
      expect(res.status).toBe(200);
      expect(h.emulator().state().receipts[body.externalPaymentId]).toEqual({
        customer: { email: 'buyer@example.ru' },
        items: [
          {
            description: 'Beem — тариф «Профессиональный», кредитов: 200',
            quantity: 1,
            amount: { value: '4990.00', currency: 'RUB' },
            vat_code: 4,
            payment_subject: 'service',
            payment_mode: 'full_payment',
          },
        ],
      });
      await h.submitCheckout(body.confirmationUrl, 'pay');
      expect((await h.check(cookie, body.paymentId)).body).toMatchObject({ applied: true, balance: 203 });
      expect(await paymentLedgerLines(stack, user.id)).toHaveLength(1);
    } finally {
      await stack.stop();
    }
  });

  it('leaves payments older than a day to admins and closes interrupted creates', async () => {
    const clock = new ManualClock(Date.now());
    const stack = await startStack({ env: FAST_RETRIES, clock });
    const h = helpers(() => stack);
    try {
      const { user, cookie } = await createSignedInUser(stack.app.ctx);
      const { body } = await h.create(cookie, 'single');
      await stack.app.ctx.db.run(`INSERT INTO payments (id, userId, amount_kopecks, credits, plan, idempotence_key, createdAt, updatedAt)
           VALUES ('pay_interrupted', ?, 39000, 10, 'single', 'key-interrupted', ?, ?)`, [user.id, clock.now(), clock.now()]);
      clock.advance(25 * 60 * 60 * 1000);
      const report = await reconcilePendingPayments(stack.app.ctx);
      expect(report).toEqual({ checked: 0, changed: 0, failed: 0, abandoned: 1, unknown: 0 });
      expect(await getPayment(stack.app.ctx.db, 'pay_interrupted')).toMatchObject({ status: 'failed', lastError: 'create call interrupted' });
      expect((await listStalePendingPayments(stack.app.ctx.db, clock.now())).map((p) => p.id)).toEqual([body.paymentId]);
    } finally {
      await stack.stop();
    }
  });

  it('does not hand out a confirmation URL for an attempt that reconciliation closed meanwhile', async () => {
    const clock = new ManualClock(Date.now());
    const stack = await startStack({ env: FAST_RETRIES, clock });
    const h = helpers(() => stack);
    try {
      const { user } = await createSignedInUser(stack.app.ctx);
      await h.emulator().injectFault({ fault: { kind: 'slow', on: 'create', delayMs: 800 } });
      const starting = startPayment(stack.app.ctx, { user, tariffId: 'basic' });
      const attempt = () =>
        stack.app.ctx.db.value<string>('SELECT id FROM payments WHERE userId = ?', [user.id]);
      await expect.poll(attempt).toBeDefined();
      // The create call hangs past the cut-off, and reconciliation closes the attempt as interrupted.
      clock.advance(11 * 60 * 1000);
      expect((await reconcilePendingPayments(stack.app.ctx)).abandoned).toBe(1);
      await expect(starting).rejects.toMatchObject({ code: 'PAYMENT_PROVIDER_ERROR' });
      expect(await getPayment(stack.app.ctx.db, (await attempt())!)).toMatchObject({ status: 'failed', confirmationUrl: null });
      expect((await getPayment(stack.app.ctx.db, (await attempt())!))?.externalPaymentId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await stack.stop();
    }
  });
});

/** A stack of its own on a manual clock, stopped after `body` whatever happens. */
async function withClockedStack(
  body: (context: { stack: TestStack; clock: ManualClock; h: ReturnType<typeof helpers> }) => Promise<void>,
): Promise<void> {
  const clock = new ManualClock(Date.now());
  const stack = await startStack({ env: FAST_RETRIES, clock });
  try {
    await body({ stack, clock, h: helpers(() => stack) });
  } finally {
    await stack.stop();
  }
}

describe('payments YooKassa does not know (404)', () => {
  const MINUTE = 60 * 1000;

  async function alertsAbout(stack: TestStack, paymentId: string): Promise<string[]> {
    const rows = await stack.app.ctx.db.all<{ message: string }>(`SELECT message FROM operator_alerts WHERE stage = 'PAYMENT' AND message LIKE ?`, [
      `%${paymentId}%`,
    ]);
    return rows.map((r) => r.message);
  }

  it('reports a forgotten payment once, re-checks it after growing pauses, and never closes or credits it', async () => {
    await withClockedStack(async ({ stack, clock, h }) => {
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 2 });
    const { body } = await h.create(cookie, 'basic');
    // The sandbox restarted: it no longer knows the payment and answers 404.
    h.emulator().reset();
    const errors = captureErrors(stack);
    const askedYookassa = () => stack.sandbox.requestCounts.yookassa ?? 0;

    const first = await reconcilePendingPayments(stack.app.ctx);
    expect(first).toMatchObject({ checked: 1, unknown: 1, failed: 0, changed: 0 });
    const marked = (await getPayment(stack.app.ctx.db, body.paymentId))!;
    expect(marked).toMatchObject({ status: 'pending', applied: false, unknownSince: clock.now(), unknownChecks: 1 });
    expect(marked.nextCheckAt).toBe(clock.now() + 5 * MINUTE);

    // Not due yet: the periodic pass and the buyer's page do not ask YooKassa again.
    const calls = askedYookassa();
    expect(await reconcilePendingPayments(stack.app.ctx)).toMatchObject({ checked: 0, unknown: 0 });
    expect((await h.check(cookie, body.paymentId)).body).toMatchObject({ status: 'pending', applied: false, balance: 2 });
    expect(askedYookassa()).toBe(calls);

    // Due after 5 minutes, then after 10, then 20: the pause doubles.
    const pauses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const due = (await getPayment(stack.app.ctx.db, body.paymentId))!.nextCheckAt!;
      pauses.push(due - clock.now());
      clock.set(due - 1);
      expect((await reconcilePendingPayments(stack.app.ctx)).checked).toBe(0);
      clock.set(due);
      expect(await reconcilePendingPayments(stack.app.ctx)).toMatchObject({ checked: 1, unknown: 1 });
    }
    expect(pauses).toEqual([5 * MINUTE, 10 * MINUTE, 20 * MINUTE]);
    expect(await getPayment(stack.app.ctx.db, body.paymentId)).toMatchObject({ status: 'pending', applied: false, unknownChecks: 4 });

    // One report for four 404s: one error line, one operator alert.
    await stack.app.ctx.notifier.flush();
    expect(errors.filter((line) => line.includes(body.paymentId))).toHaveLength(1);
    expect(await alertsAbout(stack, body.paymentId)).toEqual([expect.stringContaining('404')]);
    // Money: nothing moved.
    expect(await paymentLedgerLines(stack, user.id)).toEqual([]);
    expect((await h.check(cookie, body.paymentId)).body.balance).toBe(2);
    expect(await findLedgerMismatches(stack.app.ctx.db)).toEqual([]);
    });
  });

  it('shows admins «неизвестен в ЮKassa», and an admin re-check asks YooKassa at once', async () => {
    await withClockedStack(async ({ stack, clock, h }) => {
    const admin = await createSignedInUser(stack.app.ctx, { role: 'admin' });
    const { cookie } = await createSignedInUser(stack.app.ctx);
    const { body } = await h.create(cookie, 'single');
    h.emulator().reset();
    await reconcilePendingPayments(stack.app.ctx);

    const page = await (await apiFetch(stack.app.url, '/admin/payments?unknown=1', { cookie: admin.cookie })).text();
    expect(page).toContain(body.paymentId);
    expect(page).toContain('неизвестен в ЮKassa');
    const dashboard = await (await apiFetch(stack.app.url, '/admin', { cookie: admin.cookie })).text();
    expect(dashboard).toMatch(/data-testid="payments-unknown"[^>]*>\s*(<a[^>]*>)?\s*1\b/);

    const calls = stack.sandbox.requestCounts.yookassa ?? 0;
    const recheck = await apiFetch(stack.app.url, `/api/admin/payments/${body.paymentId}/recheck`, { cookie: admin.cookie, json: {} });
    expect(recheck.status).toBe(200);
    expect(stack.sandbox.requestCounts.yookassa).toBeGreaterThan(calls);
    expect(await getPayment(stack.app.ctx.db, body.paymentId)).toMatchObject({ status: 'pending', applied: false, unknownChecks: 2 });
    });
  });

  it('credits exactly once when YooKassa knows the payment again (the shop credentials were fixed)', async () => {
    await withClockedStack(async ({ stack, clock, h }) => {
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 0 });
    const { body } = await h.create(cookie, 'basic');
    await h.control({ fault: { kind: 'drop_notification' } });
    await h.control({ action: 'pay', paymentId: body.externalPaymentId });
    // As if earlier checks had been made with wrong credentials.
    await stack.app.ctx.db.run('UPDATE payments SET unknown_since = ?, unknown_checks = 3, next_check_at = ? WHERE id = ?', [clock.now() - 30 * MINUTE, clock.now(), body.paymentId]);
    const [a, b] = await Promise.all([reconcilePendingPayments(stack.app.ctx), h.check(cookie, body.paymentId)]);
    expect(a.unknown).toBe(0);
    expect(b.body.applied).toBe(true);
    expect(await getPayment(stack.app.ctx.db, body.paymentId)).toMatchObject({ applied: true, unknownSince: null, unknownChecks: 0, nextCheckAt: null });
    expect(await paymentLedgerLines(stack, user.id)).toEqual([expect.objectContaining({ delta: 50 })]);
    expect(await findLedgerMismatches(stack.app.ctx.db)).toEqual([]);
    });
  });

  it('the demo closes the previous run’s open payments as expired, and nothing else', async () => {
    await withClockedStack(async ({ stack, clock, h }) => {
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 0 });
    const open = await h.create(cookie, 'single');
    const paid = await h.create(cookie, 'basic');
    await h.submitCheckout(paid.body.confirmationUrl, 'pay');
    expect((await h.check(cookie, paid.body.paymentId)).body.applied).toBe(true);
    clock.advance(1000);

    expect(await expireForgottenSandboxPayments(stack.app.ctx.db, clock.now())).toBe(1);
    expect(await getPayment(stack.app.ctx.db, open.body.paymentId)).toMatchObject({
      status: 'canceled',
      cancellationReason: 'expired_on_confirmation',
      applied: false,
    });
    expect(await getPayment(stack.app.ctx.db, paid.body.paymentId)).toMatchObject({ status: 'succeeded', applied: true });
    expect((await h.check(cookie, open.body.paymentId)).body.message).toContain('вы отменили её или время вышло');
    expect(await expireForgottenSandboxPayments(stack.app.ctx.db, clock.now())).toBe(0);
    expect(await paymentLedgerLines(stack, user.id)).toHaveLength(1);
    });
  });
});

describe('payments the buyer abandoned', () => {
  it('stop reading «Ожидает оплаты» once YooKassa’s time to confirm is over', async () => {
    await withClockedStack(async ({ stack, clock, h }) => {
    const { cookie } = await createSignedInUser(stack.app.ctx);
    const { body } = await h.create(cookie, 'single');
    const listed = async () =>
      ((await (await apiFetch(stack.app.url, '/api/payments', { cookie })).json()) as { payments: Array<{ state: string; statusLabel: string }> })
        .payments[0]!;
    expect(await listed()).toMatchObject({ state: 'pending', statusLabel: 'Ожидает оплаты' });
    clock.advance(61 * 60 * 1000);
    expect(await listed()).toMatchObject({ state: 'expired', statusLabel: 'Не завершён' });
    const { body: checked } = await h.check(cookie, body.paymentId);
    expect(checked).toMatchObject({ status: 'pending', state: 'expired', applied: false });
    expect(checked.message).toContain('Оплата не завершена');
    });
  });
});
