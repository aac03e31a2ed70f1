import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';
import { findLedgerMismatches, listLedgerEntries } from '../../src/lib/billing/ledger.ts';
import { getPayment } from '../../src/lib/billing/payment-store.ts';
import { listAudit } from '../../src/lib/admin/audit.ts';
import { recentAlerts } from '../../src/lib/notify/alert-log.ts';
import type { TelegramEmulator } from '../../sandbox/telegram/index.ts';
import { seedPayment } from '../helpers/fixtures.ts';

describe('admin payments and alerts against the sandbox', () => {
  let stack: TestStack;
  let admin: SignedInUser;
  beforeAll(async () => {
    stack = await startStack({ env: { YOOKASSA_RETRY_BASE_MS: '20', TELEGRAM_MIN_INTERVAL_MS: '0' } });
    admin = await createSignedInUser(stack.app.ctx, { email: 'cashier@example.ru', role: 'admin' });
  });
  afterAll(async () => {
    await stack.stop();
  });
  afterEach(async () => {
    expect(await findLedgerMismatches(stack.app.ctx.db)).toEqual([]);
  });

  const control = async (body: unknown) => {
    const res = await fetch(`${stack.sandbox.url}/_sandbox/yookassa/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
  };

  /** A payment paid at YooKassa whose notification was lost: only a re-check can credit it. */
  async function paidButUnnoticed(): Promise<{ seller: SignedInUser; paymentId: string; externalPaymentId: string }> {
    const seller = await createSignedInUser(stack.app.ctx, { balance: 0 });
    const res = await apiFetch(stack.app.url, '/api/payments/yookassa/create', { cookie: seller.cookie, json: { plan: 'basic' } });
    expect(res.status).toBe(200);
    const { paymentId, externalPaymentId } = (await res.json()) as { paymentId: string; externalPaymentId: string };
    await control({ fault: { kind: 'drop_notification' } });
    await control({ action: 'pay', paymentId: externalPaymentId });
    expect(await getPayment(stack.app.ctx.db, paymentId)).toMatchObject({ status: 'pending', applied: false });
    return { seller, paymentId, externalPaymentId };
  }

  it('re-checks a payment with YooKassa and credits it once, audited', async () => {
    const { seller, paymentId } = await paidButUnnoticed();
    const first = await apiFetch(stack.app.url, `/api/admin/payments/${paymentId}/recheck`, { cookie: admin.cookie, json: {} });
    expect(await first.json()).toMatchObject({ success: true, notice: 'payment_credited', statusBefore: 'pending', status: 'succeeded', applied: true });
    const second = await apiFetch(stack.app.url, `/api/admin/payments/${paymentId}/recheck`, { cookie: admin.cookie, json: {} });
    expect(await second.json()).toMatchObject({ notice: 'payment_rechecked', appliedBefore: true });
    expect((await listLedgerEntries(stack.app.ctx.db, seller.user.id)).filter((l) => l.kind === 'payment')).toHaveLength(1);
    expect(await stack.app.ctx.db.value('SELECT generation_balance FROM users WHERE id = ?', [seller.user.id])).toBe(50);
    expect((await listAudit(stack.app.ctx.db, { targetId: paymentId })).map((a) => [a.action, a.actor, a.detail?.credited])).toEqual([
      ['payment.recheck', 'cashier@example.ru', false],
      ['payment.recheck', 'cashier@example.ru', true],
    ]);
    const missing = await apiFetch(stack.app.url, '/api/admin/payments/pay_missing/recheck', { cookie: admin.cookie, json: {} });
    expect(missing.status).toBe(404);
  });

  it('lists payments with pending ones older than an hour highlighted', async () => {
    const seller = await createSignedInUser(stack.app.ctx, { email: 'slowpayer@example.ru' });
    const now = stack.app.ctx.clock.now();
    const single = { userId: seller.user.id, amountKopecks: 39000, credits: 10, plan: 'single', status: 'pending' } as const;
    await seedPayment(stack.app.ctx.db, { ...single, id: 'pay_old_pending', externalPaymentId: 'ext-old', at: now - 2 * 3_600_000 });
    await seedPayment(stack.app.ctx.db, { ...single, id: 'pay_new_pending', externalPaymentId: 'ext-new', at: now - 60_000 });
    const html = await (await apiFetch(stack.app.url, '/admin/payments?q=slowpayer', { cookie: admin.cookie })).text();
    expect(html).toMatch(/data-payment="pay_old_pending" data-stale="1"/);
    expect(html).toMatch(/data-payment="pay_new_pending"(?! data-stale)/);
    expect(html).toContain('ext-old');
    const stale = await (await apiFetch(stack.app.url, '/admin/payments?stale=1', { cookie: admin.cookie })).text();
    expect(stale).toContain('pay_old_pending');
    expect(stale).not.toContain('pay_new_pending');
  });

  it('sends a test alert through the real notifier to the operator chat', async () => {
    const res = await apiFetch(stack.app.url, '/api/admin/alerts/test', { cookie: admin.cookie, json: {} });
    expect(await res.json()).toMatchObject({ success: true, notice: 'test_alert_sent' });
    await stack.app.ctx.notifier.flush();
    const chat = stack.sandbox.emulator<TelegramEmulator>('telegram').messages;
    expect(chat.at(-1)?.visible).toMatch(/^⚠️ Beem Error\nStage: TEST_ALERT\nUser: .+\nGeneration: -\nError: Test alert from cashier@example\.ru/);
    expect((await recentAlerts(stack.app.ctx.db, 1))[0]).toMatchObject({ stage: 'TEST_ALERT', delivery: 'sent' });
    expect(await listAudit(stack.app.ctx.db, { action: 'alert.test' })).toHaveLength(1);

    // A delivery failure is shown on the alerts page, in red.
    await fetch(`${stack.sandbox.url}/_sandbox/telegram/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'chat_not_found' }),
    });
    // The text carries the time, so this is not a duplicate under the once-a-minute rule.
    await apiFetch(stack.app.url, '/api/admin/alerts/test', { cookie: admin.cookie, json: {} });
    await stack.app.ctx.notifier.flush();
    const page = await (await apiFetch(stack.app.url, '/admin/alerts', { cookie: admin.cookie })).text();
    expect(page).toContain('chat not found');
    expect(page).toMatch(/data-testid="alerts-sent"[^>]*>\s*1\s*</);
    expect(page).toMatch(/data-testid="alerts-failed"[^>]*>\s*1\s*</);
  });
});
