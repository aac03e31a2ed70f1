import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { recordAlert } from '../../src/lib/notify/alert-log.ts';
import { findContrastProblems } from './contrast.ts';
import { DESKTOP, PHONE, assertClean, launchBrowser, openPage, screenshot, skipBrowser } from './browser.ts';
import { paidPayment, seedPayment } from '../helpers/fixtures.ts';

/**
 * Every screen at 390 and 1280 px, with data on it, saved as test-artifacts/screen-<name>-<width>.png:
 * nothing sticks out sideways, nothing goes wrong in the browser, and on the admin pages the
 * content lines up with the header above it.
 */
describe.skipIf(skipBrowser)('every screen at 390 and 1280 px', () => {
  let app: TestApp;
  let browser: Browser;
  let seller: string;
  let admin: string;
  let sellerId: string;
  const HOUR = 3_600_000;

  beforeAll(async () => {
    browser = await launchBrowser();
    app = await startApp();
    const s = await createSignedInUser(app.ctx, { email: 'mila@shop.test', name: 'Мила', balance: 7 });
    seller = s.cookie;
    sellerId = s.user.id;
    admin = (await createSignedInUser(app.ctx, { email: 'admin@beem.test', name: 'Оператор', role: 'admin' })).cookie;
    // The finished videos belong to another shop (their files are not on disk); the seller's
    // own history holds the failed ones, which have no video to load.
    const other = (await createSignedInUser(app.ctx, { email: 'big@shop.test', name: 'Большой магазин' })).user.id;
    const now = app.ctx.clock.now();
    const gen = (row: Record<string, unknown>) =>
      app.ctx.db.run(
        `INSERT INTO generations (id, userId, status, step, duration, cost, charged, refunded, generation_mode, prompt, attempt, submittedAt,
         error_stage, error_code, createdAt, updatedAt, completedAt)
       VALUES (@id, @user, @status, @step, @duration, 1, @charged, @refunded, @mode, @prompt, @attempt, @submittedAt, @stage, @code, @at, @at, @completedAt)`,
        row,
      );
    const event = (...values: unknown[]) =>
      app.ctx.db.run(`INSERT INTO generation_events (generationId, kind, attempt, createdAt) VALUES (?, ?, ?, ?)`, values);
    for (let day = 0; day < 30; day += 1) {
      const at = now - day * 24 * HOUR - HOUR;
      const ok = 2 + ((day * 7) % 5);
      for (let i = 0; i < ok; i += 1) {
        const id = `gen_s_${day}_${i}`;
        const minimax = 60_000 + ((day * 13 + i * 29) % 9) * 15_000;
        await gen({ id, user: other, status: 'success', step: 'done', duration: 6, charged: 1, refunded: 0, mode: 'prompt', prompt: 'Кроссовки на подиуме', attempt: 6, submittedAt: at - minimax - 4000, stage: null, code: null, at, completedAt: at });
        await event(id, 'minimax_success', 5, at - 4000);
      }
      if (day % 3 === 0) {
        await gen({ id: `gen_f_${day}`, user: sellerId, status: 'failed', step: 'done', duration: 10, charged: 0, refunded: 1, mode: 'template', prompt: 'Кружка', attempt: 3, submittedAt: null, stage: day % 2 ? 'MINIMAX_CALL' : 'MINIMAX_GENERATION', code: '1027', at, completedAt: at });
      }
    }
    for (let day = 0; day < 30; day += 4) {
      const at = now - day * 24 * HOUR - 2 * HOUR;
      const basic = day % 8 !== 0;
      await paidPayment(app.ctx.db, { id: `pay_s_${day}`, userId: sellerId, externalPaymentId: `ext-${day}`, amountKopecks: basic ? 149000 : 39000, credits: basic ? 50 : 10, plan: basic ? 'basic' : 'single', at });
    }
    await seedPayment(app.ctx.db, { id: 'pay_unknown', userId: sellerId, externalPaymentId: 'ext-forgotten', amountKopecks: 39000, credits: 10, plan: 'single', status: 'pending', unknownSince: now - 2 * HOUR, at: now - 3 * HOUR });
    await recordAlert(app.ctx.db, { stage: 'MINIMAX_GENERATION', userId: sellerId, generationId: 'gen_f_0', message: 'Stage: MINIMAX_GENERATION\nError: 1027 output sensitive', delivery: 'sent', deliveryError: null, createdAt: now - HOUR });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

  const screens: Array<[string, string, 'visitor' | 'seller' | 'admin']> = [
    ['landing', '/', 'visitor'],
    ['login', '/login', 'visitor'],
    ['not-found', '/no-such-page', 'visitor'],
    ['legal-offer', '/legal/offer', 'visitor'],
    ['app', '/app', 'seller'],
    ['billing', '/billing', 'seller'],
    ['admin-overview', '/admin', 'admin'],
    ['admin-users', '/admin/users', 'admin'],
    ['admin-user', '/admin/users/{seller}', 'admin'],
    ['admin-generations', '/admin/generations', 'admin'],
    ['admin-generation', '/admin/generations/gen_f_0', 'admin'],
    ['admin-payments', '/admin/payments', 'admin'],
    ['admin-alerts', '/admin/alerts', 'admin'],
    ['admin-audit', '/admin/audit', 'admin'],
  ];

  for (const viewport of [PHONE, DESKTOP]) {
    it.each(screens)(`%s (%s) at ${viewport.width} px`, async (name, path, who) => {
      const cookie = who === 'seller' ? seller : who === 'admin' ? admin : undefined;
      const watched = await openPage(browser, { baseUrl: app.url, viewport, cookie });
      const { page } = watched;
      if (name === 'not-found') watched.expect('/no-such-page');
      await page.goto(path.replace('{seller}', sellerId));
      await page.waitForLoadState('networkidle');
      expect(await overflow(page)).toBeLessThanOrEqual(0);
      await screenshot(page, `screen-${name}-${viewport.width}`);
      assertClean(watched);
      await watched.context.close();
    });
  }

  it('shows the overview’s charts with readable text, lined up with the header', async () => {
    const watched = await openPage(browser, { baseUrl: app.url, viewport: DESKTOP, cookie: admin });
    const { page } = watched;
    await page.goto('/admin');
    for (const id of ['videos', 'revenue', 'failures', 'minimax']) {
      const chart = page.getByTestId(`chart-${id}`);
      expect(await chart.getByRole('img').isVisible()).toBe(true);
      expect(await chart.getByRole('img').getAttribute('aria-labelledby')).toBe(`${id}-title ${id}-desc`);
    }
    // The numbers are one click away, as a table.
    await page.getByTestId('chart-videos').getByText('Числа таблицей').click();
    expect(await page.getByTestId('chart-videos-table').locator('tbody tr').count()).toBe(30);
    expect(await findContrastProblems(page)).toEqual([]);
    // The admin navigation starts where the header's logo starts.
    const left = async (selector: string) => (await page.locator(selector).first().boundingBox())!.x;
    expect(Math.abs((await left('[data-testid="header-bar"] > a')) - (await left('nav[aria-label="Разделы админ-панели"]')))).toBeLessThanOrEqual(1);
    await screenshot(page, 'screen-admin-overview-table-1280');
    assertClean(watched);
    await watched.context.close();
  });
});
