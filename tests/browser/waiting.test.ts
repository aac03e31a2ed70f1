import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { photo, startPipelineStack } from '../helpers/generation.ts';
import type { TestStack } from '../helpers/stack.ts';
import { createSignedInUser } from '../helpers/users.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import type { OpenAiEmulator } from '../../sandbox/openai/index.ts';
import { DESKTOP, assertClean, launchBrowser, openPage, screenshot, skipBrowser } from './browser.ts';

/**
 * Waiting for a video in Chromium (issue 16 §5): the page watches by the status stream (no
 * polling while it works), a queued generation is cancelled from the page with its credits
 * back, and a video ready while the tab is in the background changes the title and shows
 * the notification the seller allowed.
 */
describe.skipIf(skipBrowser)('waiting for a video in the browser', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  let browser: Browser;
  let photoFile: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    // The prompt step and a create call may take long here, so a test can hold a generation in them (see below).
    stack = await startPipelineStack({
      env: { ENHANCER_TIMEOUT_MS: '10000', MINIMAX_REQUEST_TIMEOUT_MS: '20000' },
      minimax: { stepMs: { preparing: 100, queueing: 100, processing: 1500 } },
    });
    photoFile = path.join(stack.app.dir, 'кружка.jpg');
    fs.writeFileSync(photoFile, await photo(800, 600));
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function sellerOnApp(balance: number) {
    const seller = await createSignedInUser(stack.app.ctx, { balance });
    const watched = await openPage(browser, { baseUrl: stack.app.url, cookie: seller.cookie, viewport: DESKTOP });
    await watched.page.goto('/app');
    await watched.page.getByTestId('photo-input').setInputFiles(photoFile);
    await expect.poll(() => watched.page.locator('#photo-status').textContent()).toContain('800×600');
    await watched.page.getByTestId('mode-prompt').check();
    return { seller, watched };
  }

  it('cancels a generation still in its prompt step and shows the credits back', async () => {
    const { seller, watched } = await sellerOnApp(2);
    const { page } = watched;
    // The enhancer answers after 8 s: the generation stays in its prompt step meanwhile.
    stack.sandbox.emulator<OpenAiEmulator>('openai').injectFault({ kind: 'delay', ms: 8000, phase: 'enhancer' });
    const tasksBefore = stack.minimax.tasks().length;
    await page.getByTestId('prompt').fill('Кружка с кофе на столе, поднимается пар');
    await page.getByTestId('generate').click();
    await expect.poll(() => page.getByTestId('header-balance').textContent()).toContain('1 кредит');
    await page.getByTestId('cancel-generation').waitFor({ state: 'visible' });
    expect(await page.getByTestId('notify-ready').isVisible()).toBe(true);
    await screenshot(page, 'app-waiting-desktop');
    await page.getByTestId('cancel-generation').click();

    await page.getByTestId('progress-failed').waitFor({ state: 'visible' });
    expect(await page.locator('#progress-failed-reason').textContent()).toContain('Вы отменили этот ролик');
    expect(await page.getByTestId('refunded').textContent()).toContain('1 кредит снова на балансе');
    await expect.poll(() => page.getByTestId('header-balance').textContent()).toContain('2 кредита');
    expect(await page.getByTestId('wait-controls').isVisible()).toBe(false);
    await expect.poll(() => page.getByTestId('history-item').first().textContent()).toContain('Не получился');
    expect(await stack.app.ctx.db.value(`SELECT COUNT(*) FROM credit_ledger WHERE userId = ? AND kind = 'refund'`, [seller.user.id])).toBe(1);
    expect(stack.minimax.tasks().length).toBe(tasksBefore);
    assertClean(watched);
    await watched.context.close();
  });

  it('hides the cancel button once the create call has started, while the generation is still queued', async () => {
    const { seller, watched } = await sellerOnApp(1);
    const { page } = watched;
    // 2 s in the prompt step (the button shows), then a create call MiniMax answers 8 s late.
    stack.sandbox.emulator<OpenAiEmulator>('openai').injectFault({ kind: 'delay', ms: 2000, phase: 'enhancer' });
    stack.minimax.injectFault({ kind: 'hang', on: 'create', ms: 8000, createTask: true });
    await page.getByTestId('prompt').fill('Часы на запястье, камера медленно облетает');
    await page.getByTestId('generate').click();
    const button = page.getByTestId('cancel-generation');
    await button.waitFor({ state: 'visible' });
    const row = async () =>
      (await stack.app.ctx.db.get<{ status: string; submit_started_at: number | null }>(
        'SELECT status, submit_started_at FROM generations WHERE userId = ?',
        [seller.user.id],
      ))!;
    // (The worker may first finish the prompt step of the generation cancelled above.)
    await expect.poll(async () => (await row()).submit_started_at !== null, { timeout: 30_000 }).toBe(true);
    // The stream reports `cancellable: false` once the create call has started: the button goes
    // while MiniMax has not answered yet, with no refused click.
    await button.waitFor({ state: 'hidden', timeout: 7_000 });
    expect((await row()).status).toBe('queued');
    expect(await page.getByTestId('wait-controls').isVisible()).toBe(true);
    expect(await page.locator('#wait-cancel-error').isVisible()).toBe(false);
    // The video is delivered as usual (and frees the worker for the next test).
    await expect
      .poll(() => stack.app.ctx.db.value('SELECT status FROM generations WHERE userId = ?', [seller.user.id]), { timeout: 30_000 })
      .toBe('success');
    assertClean(watched);
    await watched.context.close();
  });

  it('watches by the stream alone, and when ready in a background tab changes the title and notifies', async () => {
    const { watched } = await sellerOnApp(1);
    const { page, context } = watched;
    await context.grantPermissions(['notifications'], { origin: stack.app.url });
    // Notifications are recorded, not shown: headless Chromium has no notification centre.
    await page.evaluate(() => {
      const shown: string[] = [];
      (window as unknown as { shownNotices: string[] }).shownNotices = shown;
      class RecordedNotification {
        static permission = 'granted';
        static requestPermission = async () => 'granted';
        onclick: (() => void) | null = null;
        constructor(title: string) {
          shown.push(title);
        }
        close() {}
      }
      (window as unknown as { Notification: unknown }).Notification = RecordedNotification;
    });
    const statusRequests: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/api/status')) statusRequests.push(url.pathname);
    });
    const title = await page.title();
    await page.getByTestId('prompt').fill('Свеча горит на подоконнике, за окном снег');
    await page.getByTestId('generate').click();
    await page.getByTestId('progress').waitFor({ state: 'visible' });
    // The seller switches to another tab.
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await expect.poll(() => page.title(), { timeout: 25_000 }).toBe(`✓ Ролик готов · ${title}`);
    expect(await page.evaluate(() => (window as unknown as { shownNotices: string[] }).shownNotices)).toEqual(['Ролик готов']);
    // One stream and not a single poll for the whole wait.
    expect(statusRequests).toEqual(['/api/status/stream']);

    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await expect.poll(() => page.title()).toBe(`Ваш ролик готов · ${title}`);
    assertClean(watched);
    await context.close();
  });
});
