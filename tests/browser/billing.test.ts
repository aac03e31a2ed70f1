import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';
import type { YookassaEmulator } from '../../sandbox/yookassa/index.ts';
import { getPayment } from '../../src/lib/billing/payment-store.ts';
import { listLedgerEntries } from '../../src/lib/billing/ledger.ts';
import { t } from '../../src/lib/i18n/index.ts';
import { DESKTOP, PHONE, assertClean, launchBrowser, openPage, screenshot, skipBrowser } from './browser.ts';

/** Buying credits in Chromium: our billing page → the sandbox YooKassa page → back with the result. */
describe.skipIf(skipBrowser)('billing in the browser', () => {
  let stack: TestStack;
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
    stack = await startStack();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('buys Basic on the confirmation page and sees +50 on the balance and in both histories', async () => {
    const { cookie } = await createSignedInUser(stack.app.ctx, { balance: 3 });
    const watched = await openPage(browser, { baseUrl: stack.app.url, cookie });
    const { page } = watched;
    await page.goto('/billing');
    await expect.poll(() => page.getByTestId('ledger').textContent()).toContain('Пробные кредиты');
    await screenshot(page, 'billing-desktop');

    await page.getByTestId('buy-basic').click();
    await page.waitForURL(/\/yookassa\/checkout\//);
    await page.getByRole('button', { name: /Оплатить/ }).click();
    await page.waitForURL(/\/billing\?payment=/);

    const result = page.getByTestId('payment-result');
    await expect.poll(() => result.getAttribute('data-kind'), { timeout: 15_000 }).toBe('success');
    expect(await result.textContent()).toContain('зачислено 50 кредитов');
    expect(await page.getByTestId('header-balance').textContent()).toContain('53 кредита');
    await expect.poll(() => page.getByTestId('ledger').textContent()).toContain('Покупка кредитов');
    expect(await page.getByTestId('ledger').textContent()).toContain('+50');
    expect(await page.getByTestId('payments').textContent()).toContain('Базовый');
    await screenshot(page, 'billing-paid-desktop');
    assertClean(watched);
    await watched.context.close();
  });

  it('says plainly that a cancelled payment took no money and offers to try again', async () => {
    const { cookie } = await createSignedInUser(stack.app.ctx, { balance: 3 });
    const watched = await openPage(browser, { baseUrl: stack.app.url, cookie, viewport: PHONE });
    const { page } = watched;
    await page.goto('/billing');
    await page.getByTestId('buy-single').click();
    await page.waitForURL(/\/yookassa\/checkout\//);
    // The reason picker is tucked away in a <details> on the sandbox page.
    await page.locator('form details').evaluate((details) => ((details as HTMLDetailsElement).open = true));
    await page.selectOption('select[name="reason"]', 'insufficient_funds');
    await page.getByRole('button', { name: 'Отменить' }).click();
    await page.waitForURL(/\/billing\?payment=/);

    const result = page.getByTestId('payment-result');
    await expect.poll(() => result.getAttribute('data-kind'), { timeout: 15_000 }).toBe('warning');
    expect(await result.textContent()).toContain('недостаточно средств');
    expect(await page.getByTestId('header-balance').textContent()).toContain('3 кредита');
    await screenshot(page, 'billing-canceled-phone');
    assertClean(watched);
    await watched.context.close();
  });

  it('sends a user whose session ended to sign in and back to billing', async () => {
    const { cookie, user } = await createSignedInUser(stack.app.ctx);
    const watched = await openPage(browser, { baseUrl: stack.app.url, cookie, viewport: DESKTOP });
    const { page } = watched;
    await page.goto('/billing');
    // Let the page's own list requests finish first: any of them would notice the lost session too.
    await page.waitForLoadState('networkidle');
    await stack.app.ctx.db.run('DELETE FROM sessions WHERE userId = ?', [user.id]);
    watched.expect('/api/payments/yookassa/create');
    await page.getByTestId('buy-basic').click();
    await page.waitForURL(/\/login\?next=%2Fbilling/);
    assertClean(watched);
    await watched.context.close();
  });

  /** Buys `plan` on the sandbox checkout page with a fault queued first; the page is back on /billing?payment=. */
  async function payWith(fault: Record<string, unknown> | null, options: { balance?: number; plan?: string; clock?: boolean } = {}) {
    const { cookie, user } = await createSignedInUser(stack.app.ctx, { balance: options.balance ?? 3 });
    const watched = await openPage(browser, { baseUrl: stack.app.url, cookie });
    const { page } = watched;
    // The page's own clock: its patience and slow re-checks are minutes long.
    if (options.clock) await page.clock.install();
    if (fault) await yookassa().injectFault({ fault });
    await page.goto('/billing');
    await page.getByTestId(`buy-${options.plan ?? 'basic'}`).click();
    await page.waitForURL(/\/yookassa\/checkout\//);
    await page.getByRole('button', { name: /Оплатить/ }).click();
    await page.waitForURL(/\/billing\?payment=/);
    const paymentId = new URL(page.url()).searchParams.get('payment')!;
    const externalId = (await getPayment(stack.app.ctx.db, paymentId) as { externalPaymentId: string }).externalPaymentId;
    return { watched, page, user, paymentId, externalId, result: page.getByTestId('payment-result') };
  }

  const yookassa = () => stack.sandbox.emulator<YookassaEmulator>('yookassa');
  const paymentLines = async (userId: string) => (await listLedgerEntries(stack.app.ctx.db, userId)).filter((e) => e.kind === 'payment');

  it('ends credited when the notification never comes: the page asks YooKassa itself', async () => {
    const { watched, page, user, externalId, result } = await payWith({ kind: 'drop_notification' });
    await expect.poll(() => result.getAttribute('data-kind'), { timeout: 15_000 }).toBe('success');
    expect(await page.getByTestId('header-balance').textContent()).toContain('53 кредита');
    await yookassa().settled();
    expect(yookassa().state().notifications.filter((n) => n.paymentId === externalId).map((n) => n.status)).toEqual(['dropped']);
    expect(await paymentLines(user.id)).toHaveLength(1);
    assertClean(watched);
    await watched.context.close();
  });

  it('ends credited once when the notification comes twice', async () => {
    const { watched, page, user, externalId, result } = await payWith({ kind: 'duplicate_notification' });
    await expect.poll(() => result.getAttribute('data-kind'), { timeout: 15_000 }).toBe('success');
    await yookassa().settled();
    expect(yookassa().state().notifications.filter((n) => n.paymentId === externalId).map((n) => n.status)).toEqual([200, 200]);
    await page.reload();
    await expect.poll(() => page.getByTestId('ledger').textContent()).toContain('+50');
    expect(await page.getByTestId('header-balance').textContent()).toContain('53 кредита');
    expect(await paymentLines(user.id)).toHaveLength(1);
    assertClean(watched);
    await watched.context.close();
  });

  it('keeps checking after its patience runs out, and ends credited when the bank confirms late', async () => {
    const { watched, page, user, result } = await payWith({ kind: 'late_notification', delayMs: 10 * 60_000 }, { clock: true });
    await expect.poll(() => result.textContent()).toContain('Ждём подтверждения от банка');
    // Past the quick checks: the page says the bank is slow, and goes on checking slowly.
    await page.clock.fastForward('03:05');
    await expect.poll(() => result.textContent()).toContain('Банк ещё не подтвердил оплату');
    expect(await result.getAttribute('data-kind')).toBe('info');

    // The bank confirms ten minutes later; the notification credits the account.
    await yookassa().act({ action: 'advance_clock', ms: 10 * 60_000 });
    expect(await paymentLines(user.id)).toHaveLength(1);
    await page.clock.fastForward('00:31');
    await expect.poll(() => result.getAttribute('data-kind'), { timeout: 15_000 }).toBe('success');
    expect(await page.getByTestId('header-balance').textContent()).toContain('53 кредита');
    assertClean(watched);
    await watched.context.close();
  });

  it('ends cancelled, with the reason, when the payment is cancelled after the buyer came back', async () => {
    const { watched, page, user, result } = await payWith({ kind: 'cancel_after_return', delayMs: 60_000, reason: 'fraud_suspected' });
    await expect.poll(() => result.textContent()).toContain('Ждём подтверждения от банка');
    await yookassa().act({ action: 'advance_clock', ms: 60_000 });
    await expect.poll(() => result.getAttribute('data-kind'), { timeout: 15_000 }).toBe('warning');
    expect(await result.textContent()).toContain(t('ru', 'payments.cancel.fraud_suspected'));
    expect(await page.getByTestId('header-balance').textContent()).toContain('3 кредита');
    expect(await paymentLines(user.id)).toHaveLength(0);
    assertClean(watched);
    await watched.context.close();
  });

  it('waits for a payment the bank has not confirmed yet and shows it once it lands', async () => {
    const { cookie } = await createSignedInUser(stack.app.ctx, { balance: 3 });
    const created = await apiFetch(stack.app.url, '/api/payments/yookassa/create', { cookie, json: { plan: 'professional' } });
    const { paymentId, externalPaymentId } = (await created.json()) as { paymentId: string; externalPaymentId: string };

    const watched = await openPage(browser, { baseUrl: stack.app.url, cookie });
    const { page } = watched;
    await page.goto(`/billing?payment=${paymentId}`);
    const result = page.getByTestId('payment-result');
    await expect.poll(() => result.textContent()).toContain('Ждём подтверждения от банка');

    // The buyer finishes paying on another device; this page keeps checking by itself.
    await stack.sandbox.emulator<YookassaEmulator>('yookassa').act({ action: 'pay', paymentId: externalPaymentId });
    await expect.poll(() => result.getAttribute('data-kind'), { timeout: 15_000 }).toBe('success');
    expect(await page.getByTestId('header-balance').textContent()).toContain('203 кредита');
    assertClean(watched);
    await watched.context.close();
  });
});
