import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';
import { DESKTOP, assertClean, launchBrowser, openPage, screenshot, skipBrowser } from './browser.ts';

/** The admin panel in Chromium: find a user, adjust their balance; the user sees it. */
describe.skipIf(skipBrowser)('admin panel in the browser', () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
    app = await startApp();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('an admin adds credits with a reason, and the user sees the new balance', async () => {
    const admin = await createSignedInUser(app.ctx, { email: 'admin@beem.test', name: 'Оператор', role: 'admin' });
    const seller = await createSignedInUser(app.ctx, { email: 'mila@shop.test', name: 'Мила Петрова', balance: 2 });

    const watched = await openPage(browser, { baseUrl: app.url, cookie: admin.cookie, viewport: DESKTOP });
    const { page } = watched;
    await page.goto('/admin');
    await expect.poll(() => page.getByTestId('ledger-mismatches').textContent()).toMatch(/^\s*0\s*$/);
    await screenshot(page, 'admin-dashboard');

    await page.getByRole('navigation', { name: 'Разделы админ-панели' }).getByRole('link', { name: 'Пользователи' }).click();
    await page.getByRole('searchbox').fill('мила');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'mila@shop.test' }).click();
    await expect.poll(() => page.getByTestId('user-balance').innerText()).toBe('2');

    const form = page.getByTestId('adjust-form');
    await form.getByLabel(/Кредиты/).fill('15');
    await form.getByLabel(/Причина/).fill('Компенсация за сбой 12 марта');
    await form.getByRole('button', { name: 'Изменить баланс' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Теперь на балансе: 17');
    expect(await page.getByTestId('user-balance').innerText()).toBe('17');
    expect(await page.getByTestId('ledger-table').textContent()).toContain('Компенсация за сбой 12 марта');
    await screenshot(page, 'admin-user-adjusted');

    // Reloading the page after the redirect does not apply the change again.
    await page.reload();
    expect(await page.getByTestId('user-balance').innerText()).toBe('17');

    await page.goto('/admin/audit');
    expect(await page.getByTestId('audit-table').textContent()).toContain('Компенсация за сбой 12 марта');
    assertClean(watched);
    await watched.context.close();

    // The user sees it: in the API and in the header of their pages.
    const me = (await (await apiFetch(app.url, '/api/me', { cookie: seller.cookie })).json()) as { balance: number };
    expect(me.balance).toBe(17);
    const userView = await openPage(browser, { baseUrl: app.url, cookie: seller.cookie });
    await userView.page.goto('/billing');
    await expect.poll(() => userView.page.getByTestId('header-balance').textContent()).toContain('17 кредитов');
    await expect.poll(() => userView.page.getByTestId('ledger').textContent()).toContain('+15');
    await screenshot(userView.page, 'admin-adjusted-user-billing');
    // And the admin area stays closed to them.
    userView.expect('/admin');
    const denied = await userView.page.goto('/admin');
    expect(denied?.status()).toBe(403);
    assertClean(userView);
    await userView.context.close();
    expect(admin.user.role).toBe('admin');
  });
});
