import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { photo, startPipelineStack } from '../helpers/generation.ts';
import type { TestStack } from '../helpers/stack.ts';
import { createSignedInUser } from '../helpers/users.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import { ARTIFACTS, DESKTOP, PHONE, assertClean, launchBrowser, openPage, screenshot, skipBrowser, type WatchedPage } from './browser.ts';

/**
 * The golden path in Chromium against the real server, worker and sandbox: sign in through
 * the provider's form, upload, generate in both modes, watch, download, reload mid-way,
 * buy credits, switch language.
 */
describe.skipIf(skipBrowser)('the app in the browser', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  let browser: Browser;
  let photoFile: string;
  let session: WatchedPage;

  beforeAll(async () => {
    browser = await launchBrowser();
    // MiniMax "renders" for 1.5 s: long enough to reload the page in the middle.
    stack = await startPipelineStack({ minimax: { stepMs: { preparing: 100, queueing: 100, processing: 1500 } } });
    photoFile = path.join(stack.app.dir, 'кроссовки.jpg');
    fs.writeFileSync(photoFile, await photo(800, 600));
  });
  afterAll(async () => {
    await session?.context.close();
    await browser?.close();
    await stack?.stop();
  });

  async function startGeneration(page: Page, options: { mode: 'template' | 'prompt'; prompt: string; duration?: 6 | 10 }) {
    await page.getByTestId(`mode-${options.mode}`).check();
    await page.getByTestId('prompt').fill(options.prompt);
    await page.getByTestId(`duration-${options.duration ?? 6}`).check();
    await page.getByTestId('generate').click();
    await page.getByTestId('progress').waitFor({ state: 'visible' });
  }

  async function waitForVideo(page: Page) {
    await page.getByTestId('result').waitFor({ state: 'visible', timeout: 30_000 });
    await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-testid=result-video]')?.readyState ?? 0) >= 2, null, {
      timeout: 15_000,
    });
  }

  it('signs in through the provider’s form and lands in the app with the trial credits', async () => {
    session = await openPage(browser, { baseUrl: stack.app.url, viewport: DESKTOP });
    const { page } = session;
    await page.goto('/');
    await page.getByTestId('landing-sign-in').click();
    await page.waitForURL(/\/login/);
    await page.locator('form[action="/auth/login"] button[type=submit]').click();
    await page.getByLabel('Почта').fill('seller@example.ru');
    await page.getByLabel('Имя (необязательно)').fill('Анна');
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.waitForURL(/\/app$/);
    expect(await page.getByTestId('header-balance').textContent()).toContain('3 кредита');
    await expect.poll(() => page.getByTestId('history-empty').isVisible()).toBe(true);
    expect(await page.getByTestId('generate-reason').textContent()).toContain('загрузите фото');
    await screenshot(page, 'app-empty-desktop');
    assertClean(session);
  });

  it('uploads a photo, generates in prompt mode, plays the video and downloads it', async () => {
    const { page } = session;
    await page.getByTestId('photo-input').setInputFiles(photoFile);
    await expect.poll(() => page.locator('#photo-status').textContent()).toContain('Фото загружено (800×600)');
    await startGeneration(page, { mode: 'prompt', prompt: 'Кроссовки медленно вращаются на подиуме, камера плавно приближается' });
    await expect.poll(() => page.getByTestId('header-balance').textContent()).toContain('2 кредита');
    await waitForVideo(page);
    expect(await page.getByTestId('final-prompt').textContent()).toMatch(/[a-z]{3,}/i);
    expect(await page.locator('#result-camera').isVisible()).toBe(true);
    await screenshot(page, 'app-result-desktop');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    const saved = path.join(ARTIFACTS, 'downloaded.mp4');
    await download.saveAs(saved);
    expect(download.suggestedFilename()).toMatch(/^beem-gen_.+\.mp4$/);
    expect(fs.readFileSync(saved).subarray(4, 8).toString('latin1')).toBe('ftyp');

    await expect.poll(() => page.getByTestId('history-item').count()).toBe(1);
    expect(await page.getByTestId('history-item').first().textContent()).toContain('Готов');
    assertClean(session);
  });

  it('generates in template mode and shows the template it chose', async () => {
    const { page } = session;
    await startGeneration(page, { mode: 'template', prompt: 'Беговые кроссовки, акцент на лёгкости' });
    await waitForVideo(page);
    expect(await page.locator('#result-template').isVisible()).toBe(true);
    expect((await page.locator('#result-template dd').textContent())?.trim()).not.toBe('');
    await expect.poll(() => page.getByTestId('header-balance').textContent()).toContain('1 кредит');
    assertClean(session);
  });

  it('comes back to a running generation after a reload and sees it finish', async () => {
    const { page } = session;
    await startGeneration(page, { mode: 'prompt', prompt: 'Кружка с кофе на столе, поднимается пар' });
    await page.locator('[data-stage="generate"][data-state="active"], [data-stage="queue"][data-state="active"]').waitFor();
    await page.reload();
    await page.getByTestId('progress').waitFor({ state: 'visible' });
    expect(await page.locator('#progress-steps [data-state="active"]').count()).toBe(1);
    await waitForVideo(page);
    expect(await page.getByTestId('header-balance').textContent()).toContain('0 кредитов');
    expect(await page.getByTestId('generate-reason').textContent()).toContain('Нужно 1 кредит, а на балансе 0 кредитов');
    expect(await page.getByRole('link', { name: 'Пополнить баланс' }).isVisible()).toBe(true);
    assertClean(session);
  });

  it('fills the form again from a history item', async () => {
    const { page } = session;
    const oldest = page.getByTestId('history-item').last();
    await oldest.getByRole('button', { name: 'Ещё раз с этими настройками' }).click();
    expect(await page.getByTestId('prompt').inputValue()).toBe('Кроссовки медленно вращаются на подиуме, камера плавно приближается');
    expect(await page.getByTestId('mode-prompt').isChecked()).toBe(true);
    assertClean(session);
  });

  it('buys Basic through the confirmation page and sees +50', async () => {
    const { page } = session;
    await page.getByTestId('header-balance').click();
    await page.waitForURL(/\/billing$/);
    await page.getByTestId('buy-basic').click();
    await page.getByRole('button', { name: /Оплатить/ }).click();
    await page.waitForURL(/\/billing\?payment=/);
    await expect.poll(() => page.getByTestId('payment-result').getAttribute('data-kind'), { timeout: 15_000 }).toBe('success');
    expect(await page.getByTestId('header-balance').textContent()).toContain('50 кредитов');
    assertClean(session);
  });

  it('switches to English and keeps it', async () => {
    const { page } = session;
    await page.goto('/app');
    await page.getByTestId('language-switch').getByRole('link', { name: 'English' }).click();
    await page.waitForURL(/\/app$/);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.getByTestId('generate').textContent()).toContain('Create video');
    expect(await page.getByTestId('header-balance').textContent()).toContain('50 credits');
    await expect.poll(() => page.getByTestId('history-item').count()).toBe(3);
    await page.reload();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await screenshot(page, 'app-english-desktop');
    assertClean(session);
  });

  it('looks right on a phone', async () => {
    const cookies = await session.context.cookies();
    const phone = await openPage(browser, { baseUrl: stack.app.url, viewport: PHONE });
    await phone.context.addCookies(cookies);
    await phone.page.goto('/app');
    await expect.poll(() => phone.page.getByTestId('history-item').count()).toBe(3);
    await screenshot(phone.page, 'app-phone');
    await phone.page.goto('/billing');
    await screenshot(phone.page, 'billing-phone');
    assertClean(phone);
    await phone.context.close();
  });

  it('signs out from the account menu and the app asks to sign in again', async () => {
    const { page } = session;
    await page.goto('/app');
    await page.waitForLoadState('networkidle');
    await page.locator('[data-user-menu] summary').click();
    await page.locator('[data-user-menu] form[action="/auth/logout"] button').click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.goto('/app');
    await page.waitForURL(/\/login\?next=%2Fapp/);
    assertClean(session);
  });

  /** A fresh signed-in seller on the app page with the test photo uploaded. */
  async function sellerWithPhoto(viewport = PHONE, balance = 2) {
    const { cookie } = await createSignedInUser(stack.app.ctx, { balance });
    const watched = await openPage(browser, { baseUrl: stack.app.url, cookie, viewport });
    await watched.page.goto('/app');
    await watched.page.getByTestId('photo-input').setInputFiles(photoFile);
    await expect.poll(() => watched.page.locator('#photo-status').textContent()).toContain('800×600');
    return watched;
  }

  it('shows the server’s reason for a photo it refuses, in place', async () => {
    const watched = await sellerWithPhoto();
    const { page } = watched;
    const small = path.join(stack.app.dir, 'small.jpg');
    fs.writeFileSync(small, await photo(200, 150));
    watched.expect('/api/upload-image');
    await page.getByTestId('photo-input').setInputFiles(small);
    await page.getByTestId('photo-error').waitFor({ state: 'visible' });
    expect(await page.getByTestId('photo-error').textContent()).toMatch(/\S{10,}/);
    // The earlier photo stays the current one.
    expect(await page.locator('#photo-status').textContent()).toContain('Оставили предыдущее фото');
    assertClean(watched);
    await watched.context.close();
  });

  it('says in plain words why a video failed and that the credits came back', async () => {
    const watched = await sellerWithPhoto(PHONE, 2);
    const { page } = watched;
    stack.minimax.injectFault({ kind: 'task_fail', code: 1027 });
    await startGeneration(page, { mode: 'prompt', prompt: 'Флакон духов на мокром камне, капли воды' });
    await page.getByTestId('progress-failed').waitFor({ state: 'visible', timeout: 30_000 });
    // The reason says what happened; the refund is its own line, said once.
    expect(await page.locator('#progress-failed-reason').textContent()).toContain('Готовый ролик не прошёл проверку нейросети');
    expect(await page.getByTestId('progress-failed').textContent()).not.toContain('Кредиты вернулись на баланс');
    expect(await page.getByTestId('refunded').textContent()).toContain('1 кредит снова на балансе');
    await expect.poll(() => page.getByTestId('header-balance').textContent()).toContain('2 кредита');
    await expect.poll(() => page.getByTestId('history-item').first().textContent()).toContain('Не получился');
    await screenshot(page, 'app-failed-phone');
    assertClean(watched);
    await watched.context.close();
  });

  it('keeps checking through a lost connection, says so, and shows the video once back online', async () => {
    const watched = await sellerWithPhoto(DESKTOP, 1);
    const { page, context } = watched;
    await startGeneration(page, { mode: 'template', prompt: 'Керамическая кружка ручной работы' });
    await page.locator('#progress-steps [data-state="active"]').waitFor();
    watched.expect('/api/status');
    watched.expect('/api/generations');
    await context.setOffline(true);
    await page.getByTestId('progress-offline').waitFor({ state: 'visible', timeout: 15_000 });
    await screenshot(page, 'app-offline-desktop');
    await context.setOffline(false);
    await waitForVideo(page);
    expect(await page.getByTestId('progress-offline').isVisible()).toBe(false);
    assertClean(watched);
    await context.close();
  });

  /** True when the whole element is on screen (or, if taller than the view, its top is). */
  const inView = (page: Page, selector: string) =>
    page.locator(selector).evaluate((node) => {
      const rect = node.getBoundingClientRect();
      return rect.top >= 0 && (rect.bottom <= window.innerHeight || rect.top < window.innerHeight / 3);
    });

  it('opens «Пополнить баланс» with one click while the description has focus', async () => {
    const watched = await sellerWithPhoto(DESKTOP, 0);
    const { page } = watched;
    await page.getByTestId('prompt').click();
    await page.keyboard.type('Кружка на деревянном столе');
    // Leaving the field fires `change` between mouse-down and mouse-up on the link.
    await page.getByTestId('generate-reason').getByRole('link', { name: 'Пополнить баланс' }).click();
    await page.waitForURL(/\/billing$/, { timeout: 5000 });
    assertClean(watched);
    await watched.context.close();
  });

  it('names missing credits before a missing description, and switches 10 s to 6 s once the balance no longer covers it', async () => {
    const poor = await sellerWithPhoto(PHONE, 0);
    expect(await poor.page.getByTestId('prompt').inputValue()).toBe('');
    expect(await poor.page.getByTestId('generate-reason').textContent()).toContain('Нужно 1 кредит, а на балансе 0 кредитов');
    assertClean(poor);
    await poor.context.close();

    const watched = await sellerWithPhoto(PHONE, 3);
    const { page } = watched;
    expect(await page.getByTestId('duration-note').isVisible()).toBe(false);
    await startGeneration(page, { mode: 'prompt', prompt: 'Наушники в футляре, футляр медленно открывается', duration: 10 });
    // 3 − 2 = 1 credit: enough for 6 seconds, not for 10.
    await expect.poll(() => page.getByTestId('duration-6').isChecked()).toBe(true);
    expect(await page.getByTestId('duration-note').textContent()).toBe('На 10 секунд кредитов уже не хватает — выбрали 6 секунд.');
    await waitForVideo(page);
    assertClean(watched);
    await watched.context.close();
  });

  it('brings the progress and then the video into view on a desktop, and says in the tab title what is happening', async () => {
    const watched = await sellerWithPhoto(DESKTOP, 1);
    const { page } = watched;
    // The grey placeholder icon is gone once the photo is there.
    expect(await page.locator('#photo-preview').isVisible()).toBe(true);
    expect(await page.locator('#photo-placeholder').isVisible()).toBe(false);
    const title = await page.title();
    await page.getByTestId('mode-prompt').check();
    await page.getByTestId('prompt').fill('Чайник на плите, из носика поднимается пар');
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    // Scrolled down to the button, the right column's top is above the view.
    expect(await page.locator('#placeholder-panel').evaluate((node) => node.getBoundingClientRect().top)).toBeLessThan(0);
    await page.getByTestId('generate').click();
    await expect.poll(() => inView(page, '#progress-panel')).toBe(true);
    await expect.poll(() => page.title()).toMatch(new RegExp(`^(Готовим сценарий|В очереди|Снимаем ролик|Сохраняем ролик)… · ${title}$`));
    await screenshot(page, 'app-progress-desktop');
    await waitForVideo(page);
    await expect.poll(() => inView(page, '#result-video')).toBe(true);
    expect(await page.title()).toBe(`Ваш ролик готов · ${title}`);
    assertClean(watched);
    await watched.context.close();
  });

  it('shows the whole finished video on a phone, without animation when the phone asks for less motion', async () => {
    const watched = await sellerWithPhoto(PHONE, 1);
    const { page } = watched;
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await startGeneration(page, { mode: 'template', prompt: 'Кожаный кошелёк, строгий стиль' });
    // The seller scrolls back up to the form while waiting: only the panel's first line stays in view.
    await page.evaluate(() => {
      const top = document.getElementById('progress-panel')!.getBoundingClientRect().top + window.scrollY;
      window.scrollTo(0, top - window.innerHeight + 60);
    });
    expect(await inView(page, '#progress-panel')).toBe(false);
    await waitForVideo(page);
    await expect.poll(() => inView(page, '#result-video'), { timeout: 2000 }).toBe(true);
    expect(await page.locator('#result-title').evaluate((node) => node.getBoundingClientRect().top)).toBeGreaterThanOrEqual(0);
    await screenshot(page, 'app-result-phone');
    assertClean(watched);
    await watched.context.close();
  });

  it('names a running video by the same stage in its history card as in the progress panel', async () => {
    const watched = await sellerWithPhoto(DESKTOP, 1);
    const { page } = watched;
    stack.minimax.configure({ stepMs: { processing: 6000 } });
    try {
      await startGeneration(page, { mode: 'prompt', prompt: 'Часы на запястье, блик скользит по стеклу' });
      await page.locator('#progress-steps [data-stage="generate"][data-state="active"]').waitFor({ timeout: 15_000 });
      const card = page.getByTestId('history-item').first();
      await expect.poll(() => card.locator('[data-status]').textContent(), { timeout: 10_000 }).toBe('Снимаем ролик');
      expect(await card.locator('[data-thumb-placeholder]').textContent()).toBe('Снимаем ролик…');
      await screenshot(page, 'app-history-running-desktop');
    } finally {
      stack.minimax.configure({ stepMs: { processing: 1500 } });
    }
    await waitForVideo(page);
    await expect.poll(() => page.getByTestId('history-item').first().locator('[data-status]').textContent()).toBe('Готов');
    assertClean(watched);
    await watched.context.close();
  });

  it('keeps the draft for this seller in a new tab until a generation starts', async () => {
    // 2 credits cover the 10 seconds the draft asks for.
    const seller = await createSignedInUser(stack.app.ctx, { balance: 2 });
    const other = await createSignedInUser(stack.app.ctx, { balance: 1 });
    const watched = await openPage(browser, { baseUrl: stack.app.url, cookie: seller.cookie, viewport: DESKTOP });
    const { page, context } = watched;
    await page.goto('/app');
    await page.getByTestId('photo-input').setInputFiles(photoFile);
    await expect.poll(() => page.locator('#photo-status').textContent()).toContain('800×600');
    await page.getByTestId('mode-prompt').check();
    await page.getByTestId('duration-10').check();
    await page.getByTestId('prompt').fill('Сумка на скамейке в парке, падают листья');

    const secondTab = await context.newPage();
    await secondTab.goto('/app');
    expect(await secondTab.getByTestId('prompt').inputValue()).toBe('Сумка на скамейке в парке, падают листья');
    expect(await secondTab.getByTestId('mode-prompt').isChecked()).toBe(true);
    expect(await secondTab.getByTestId('duration-10').isChecked()).toBe(true);
    await secondTab.close();

    // Another account in the same browser does not get it.
    const [name, value] = other.cookie.split('=');
    await context.addCookies([{ name: name!, value: value!, url: stack.app.url, httpOnly: true, sameSite: 'Lax' }]);
    const otherTab = await context.newPage();
    await otherTab.goto('/app');
    expect(await otherTab.getByTestId('prompt').inputValue()).toBe('');
    await otherTab.close();
    const [ownName, ownValue] = seller.cookie.split('=');
    await context.addCookies([{ name: ownName!, value: ownValue!, url: stack.app.url, httpOnly: true, sameSite: 'Lax' }]);

    await page.getByTestId('duration-6').check();
    await page.getByTestId('generate').click();
    await page.getByTestId('progress').waitFor({ state: 'visible' });
    await waitForVideo(page);
    const afterStart = await context.newPage();
    await afterStart.goto('/app');
    expect(await afterStart.getByTestId('prompt').inputValue()).toBe('');
    await afterStart.close();
    assertClean(watched);
    await context.close();
  });
});
