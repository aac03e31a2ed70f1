import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startApp, type TestApp } from '../helpers/app.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { findContrastProblems } from './contrast.ts';
import { DESKTOP, PHONE, assertClean, launchBrowser, openPage, screenshot, skipBrowser } from './browser.ts';

const NARROWEST = { width: 360, height: 740 };

/** Nothing sticks out sideways: the page fits the screen without horizontal scrolling. */
const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

describe.skipIf(skipBrowser)('pages in the browser', () => {
  let app: TestApp;
  let browser: Browser;
  let cookie: string;
  beforeAll(async () => {
    browser = await launchBrowser();
    app = await startApp();
    cookie = (await createSignedInUser(app.ctx, { balance: 3 })).cookie;
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it.each([
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ])('shows the landing page on a %s with the example clip playing', async (name, viewport) => {
    const watched = await openPage(browser, { baseUrl: app.url, viewport });
    const { page } = watched;
    await page.goto('/');
    await page.waitForFunction(() => (document.querySelector('video')?.readyState ?? 0) >= 2);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Рекламный ролик из фото товара');
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await screenshot(page, `landing-${name}`);
    assertClean(watched);
    await watched.context.close();
  });

  it.each(['/', '/app', '/billing', '/legal/privacy'])('fits a 360 px screen without sideways scrolling: %s', async (path) => {
    const watched = await openPage(browser, { baseUrl: app.url, viewport: NARROWEST, cookie: path === '/' ? undefined : cookie });
    await watched.page.goto(path);
    await watched.page.waitForLoadState('networkidle');
    expect(await overflow(watched.page)).toBeLessThanOrEqual(0);
    assertClean(watched);
    await watched.context.close();
  });

  it('renders the legal pages, each linked from the footer', async () => {
    const watched = await openPage(browser, { baseUrl: app.url, viewport: PHONE });
    const { page } = watched;
    await page.goto('/');
    for (const [link, heading] of [
      ['Публичная оферта', 'Публичная оферта'],
      ['Политика конфиденциальности', 'Политика обработки персональных данных'],
      ['Правила возврата', 'Правила возврата'],
      ['Контакты и реквизиты', 'Контакты и реквизиты'],
    ] as const) {
      await page.locator('footer').getByRole('link', { name: link }).click();
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain(heading);
    }
    await screenshot(page, 'legal-contacts-phone');
    assertClean(watched);
    await watched.context.close();
  });

  it('can be used from the keyboard: a skip link first, then a visible focus ring', async () => {
    const watched = await openPage(browser, { baseUrl: app.url, cookie });
    const { page } = watched;
    await page.goto('/billing');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('href'))).toBe('#main');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    const outline = await page.evaluate(() => {
      const active = document.activeElement as HTMLElement;
      return { tag: active.tagName, style: getComputedStyle(active).outlineStyle, width: getComputedStyle(active).outlineWidth };
    });
    expect(outline.style).not.toBe('none');
    expect(parseFloat(outline.width)).toBeGreaterThanOrEqual(2);
    assertClean(watched);
    await watched.context.close();
  });

  it.each(['/', '/login', '/app', '/billing', '/legal/refund', '/no-such-page'])('has text contrast that passes WCAG AA: %s', async (path) => {
    const signedIn = ['/app', '/billing'].includes(path);
    const watched = await openPage(browser, { baseUrl: app.url, viewport: DESKTOP, cookie: signedIn ? cookie : undefined });
    if (path === '/no-such-page') watched.expect(path);
    await watched.page.goto(path);
    await watched.page.waitForLoadState('networkidle');
    expect(await findContrastProblems(watched.page)).toEqual([]);
    if (path === '/login') await screenshot(watched.page, 'login-desktop');
    assertClean(watched);
    await watched.context.close();
  });
});
