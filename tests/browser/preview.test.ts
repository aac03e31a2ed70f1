import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { photo, startPipelineStack, uploadPhoto, waitUntil } from '../helpers/generation.ts';
import type { TestStack } from '../helpers/stack.ts';
import { createSignedInUser } from '../helpers/users.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import type { OpenAiEmulator } from '../../sandbox/openai/index.ts';
import { TEMPLATE_CATALOG } from '../../src/lib/prompt/template-catalog.ts';
import { DESKTOP, PHONE, assertClean, launchBrowser, openPage, screenshot, skipBrowser, type WatchedPage } from './browser.ts';

/**
 * «Посмотреть, что получится» in Chromium (issue 16, item 2): preview, edit the camera
 * chips, switch the template, and generate exactly what was previewed — with the sandbox
 * model's call counter showing that generating asked it nothing.
 */
describe.skipIf(skipBrowser)('the prompt preview in the browser', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  let browser: Browser;
  let session: WatchedPage;
  let openai: OpenAiEmulator;
  let cookie: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    stack = await startPipelineStack({
      env: { ENHANCER_TIMEOUT_MS: '5000', CAMERA_COMPILER_TIMEOUT_MS: '5000', TEMPLATE_ROUTER_TIMEOUT_MS: '5000' },
    });
    openai = stack.sandbox.emulator<OpenAiEmulator>('openai');
    cookie = (await createSignedInUser(stack.app.ctx, { balance: 20 })).cookie;
    expect((await uploadPhoto(stack.app.url, cookie, await photo(800, 600))).status).toBe(200);
    session = await openPage(browser, { baseUrl: stack.app.url, cookie, viewport: DESKTOP });
    await session.page.goto('/app');
  });
  afterAll(async () => {
    await session?.context.close();
    await browser?.close();
    await stack?.stop();
  });

  it('previews prompt mode: summary, English prompt and the camera moves as chips', async () => {
    const { page } = session;
    await page.getByTestId('mode-prompt').check();
    await page.getByTestId('prompt').fill('Флакон духов на мраморном столе, камера медленно приближается, потом панорама влево');
    await page.getByTestId('preview-button').click();
    await page.getByTestId('preview').waitFor({ state: 'visible' });
    await expect.poll(() => page.getByTestId('preview-summary').textContent()).toContain('Камера: наезд, затем поворот влево');
    expect(await page.getByTestId('preview-final-prompt').textContent()).toMatch(/^\[Push in\] .*\[Pan left\]/);
    expect(await page.getByTestId('camera-step').count()).toBe(2);
    expect(await page.getByTestId('camera-chip').allTextContents()).toEqual(['Наезд ×', 'Поворот влево ×']);
    assertClean(session);
  });

  it('edits the chips: adds to a step up to 3, reorders, removes; the prompt follows', async () => {
    const { page } = session;
    const steps = page.getByTestId('camera-step');
    await steps.nth(1).getByTestId('camera-add-to-step').selectOption('Pedestal up');
    await expect.poll(() => page.getByTestId('preview-final-prompt').textContent()).toMatch(/\[Pan left, Pedestal up\]/);
    await steps.nth(1).getByTestId('camera-add-to-step').selectOption('Zoom in');
    await expect.poll(() => page.getByTestId('preview-final-prompt').textContent()).toMatch(/\[Pan left, Pedestal up, Zoom in\]/);
    // A full step offers no fourth move.
    expect(await steps.nth(1).getByTestId('camera-add-to-step').count()).toBe(0);
    await steps.nth(1).getByTestId('camera-step-earlier').click();
    await expect.poll(() => page.getByTestId('preview-final-prompt').textContent()).toMatch(/^\[Pan left, Pedestal up, Zoom in\] .*\[Push in\]/);
    await page.locator('[data-testid=camera-chip][data-command="Zoom in"]').click();
    await expect.poll(() => page.getByTestId('preview-final-prompt').textContent()).toMatch(/^\[Pan left, Pedestal up\] .*\[Push in\]/);
    await page.getByTestId('camera-add-step').selectOption('Static shot');
    await expect.poll(() => page.getByTestId('camera-step').count()).toBe(3);
    expect(await page.getByTestId('preview-summary').textContent()).toContain('поворот влево и подъём, затем наезд, затем статичный кадр');
    await screenshot(page, 'preview-prompt-desktop');
    assertClean(session);
  });

  it('generates exactly the previewed prompt without asking the model again', async () => {
    const { page } = session;
    const finalPrompt = await page.getByTestId('preview-final-prompt').textContent();
    const calls = openai.calls.length;
    const tasks = stack.minimax.tasks().length;
    await page.getByTestId('generate').click();
    await page.getByTestId('result').waitFor({ state: 'visible', timeout: 30_000 });
    const task = stack.minimax.tasks()[tasks];
    expect(task?.prompt).toBe(finalPrompt);
    expect(openai.calls.length).toBe(calls);
    assertClean(session);
  });

  it('marks the preview stale when the text changes, and then generates without it', async () => {
    const { page } = session;
    await page.getByTestId('prompt').fill('Флакон духов на мраморном столе, камера отъезжает');
    await expect.poll(() => page.getByTestId('preview-stale').isVisible()).toBe(true);
    const calls = openai.calls.length;
    const tasks = stack.minimax.tasks().length;
    await page.getByTestId('generate').click();
    await waitUntil(() => stack.minimax.tasks().length > tasks, 20_000, 'the MiniMax task');
    expect(stack.minimax.tasks()[tasks]?.prompt).toMatch(/\[Pull out\]/);
    // No preview: the engine ran, enhancer and compiler.
    expect(openai.calls.length - calls).toBe(2);
    await page.getByTestId('result').waitFor({ state: 'visible', timeout: 30_000 });
    assertClean(session);
  });

  it('previews template mode and switches to an alternative before generating it', async () => {
    const { page } = session;
    await page.getByTestId('mode-template').check();
    await page.getByTestId('prompt').fill('Апельсиновый сок в стеклянной бутылке');
    await page.getByTestId('preview-button').click();
    await expect.poll(() => page.getByTestId('preview-template-name').textContent()).toBe('Водопад напитка');
    expect(await page.getByTestId('preview-summary').textContent()).toMatch(/^Шаблон «Водопад напитка»/);
    expect(await page.getByTestId('preview-template-suits').textContent()).toBe('Подходит: напитки в бутылке, банке или стакане.');
    const alternatives = page.getByTestId('template-alternative');
    expect(await alternatives.count()).toBeGreaterThan(0);
    const altName = (await alternatives.first().locator('strong').textContent()) ?? '';
    await alternatives.first().getByTestId('template-choose').click();
    await expect.poll(() => page.getByTestId('preview-template-name').textContent()).toBe(altName);
    await screenshot(page, 'preview-template-desktop');
    const calls = openai.calls.length;
    const tasks = stack.minimax.tasks().length;
    await page.getByTestId('generate').click();
    await waitUntil(() => stack.minimax.tasks().length > tasks, 20_000, 'the MiniMax template task');
    expect(stack.minimax.tasks()[tasks]?.templateId).toBe(TEMPLATE_CATALOG.find((t) => t.name.ru === altName)?.id);
    expect(openai.calls.length).toBe(calls);
    await page.getByTestId('result').waitFor({ state: 'visible', timeout: 30_000 });
    assertClean(session);
  });

  it('says when no template fits and offers prompt mode with its price', async () => {
    const { page } = session;
    await page.getByTestId('mode-template').check();
    await page.getByTestId('prompt').fill('Сделай красиво и быстро');
    await page.getByTestId('preview-button').click();
    await expect.poll(() => page.getByTestId('preview-summary').textContent()).toMatch(/Ни один шаблон не подходит/);
    const switchButton = page.getByTestId('preview-switch-mode');
    expect(await switchButton.textContent()).toMatch(/Свободный сценарий» — \d+ кредит/);
    await switchButton.click();
    expect(await page.getByTestId('mode-prompt').isChecked()).toBe(true);
    await expect.poll(() => page.getByTestId('preview-summary').textContent()).toMatch(/^В ролике: Сделай красиво/);
    expect(await page.getByTestId('camera-step').count()).toBeGreaterThan(0);
    assertClean(session);
  });

  it('refuses to generate a template video no template fits, under the text, charging nothing', async () => {
    const { page } = session;
    await page.getByTestId('mode-template').check();
    await page.getByTestId('prompt').fill('Сделай красиво, пожалуйста');
    const balance = await page.getByTestId('header-balance').textContent();
    const tasks = stack.minimax.tasks().length;
    session.expect('/api/generate');
    await page.getByTestId('generate').click();
    const error = page.locator('#prompt-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toMatch(/^Ни один шаблон не подходит к этому описанию.*Кредиты не списаны.*«Свободный сценарий»/);
    expect(await page.getByTestId('header-balance').textContent()).toBe(balance);
    expect(stack.minimax.tasks().length).toBe(tasks);
    assertClean(session);
  });

  it('fits a phone screen with the chips and menus open', async () => {
    const phone = await openPage(browser, { baseUrl: stack.app.url, cookie, viewport: PHONE });
    try {
      const { page } = phone;
      await page.goto('/app');
      await page.getByTestId('mode-prompt').check();
      await page.getByTestId('prompt').fill('Белые кроссовки на подиуме, камера облетает вокруг, потом приближается к логотипу');
      await page.getByTestId('preview-button').click();
      await expect.poll(() => page.getByTestId('camera-step').count()).toBe(2);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await screenshot(page, 'preview-prompt-phone');
      assertClean(phone);
    } finally {
      await phone.context.close();
    }
  });
});
