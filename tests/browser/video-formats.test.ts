import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { photo, startPipelineStack } from '../helpers/generation.ts';
import type { TestStack } from '../helpers/stack.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { probeVideo, skipFfmpeg } from '../helpers/media.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import { ARTIFACTS, DESKTOP, PHONE, assertClean, launchBrowser, openPage, screenshot, skipBrowser } from './browser.ts';

const RATIO = { '3x4': 3 / 4, '9x16': 9 / 16, '1x1': 1, '16x9': 16 / 9 } as const;

/**
 * Formats in Chromium, at a phone's and a desktop's width: choose each format and see the frame
 * the server cut, move the focus, generate a vertical video and play it at its own shape,
 * download a marketplace export.
 */
describe.skipIf(skipBrowser)('video formats in the browser', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  let browser: Browser;
  let photoFile: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    stack = await startPipelineStack({ minimax: { stepMs: { preparing: 50, queueing: 50, processing: 300 } } });
    photoFile = path.join(stack.app.dir, 'кружка.jpg');
    fs.writeFileSync(photoFile, await photo(1200, 900));
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function pickFormat(page: Page, slug: keyof typeof RATIO | 'original'): Promise<void> {
    await page.locator(`label:has([data-testid="format-${slug}"])`).click();
  }

  async function frameRatio(page: Page): Promise<number> {
    return page.getByTestId('frame-preview').evaluate((img: HTMLImageElement) => (img.complete && img.naturalHeight ? img.naturalWidth / img.naturalHeight : 0));
  }

  for (const [name, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    it(`chooses each format, sees the cropped frame, plays a vertical video without bars and downloads an export (${name})`, async () => {
      const { cookie } = await createSignedInUser(stack.app.ctx, { balance: 10 });
      const watched = await openPage(browser, { baseUrl: stack.app.url, cookie, viewport });
      const { page } = watched;
      try {
        await page.goto('/app');
        await page.getByTestId('mode-prompt').check();
        await page.getByTestId('photo-input').setInputFiles(photoFile);
        await expect.poll(() => page.locator('#photo-status').textContent()).toContain('1200×900');

        // «Как на фото» needs no crop: no frame is shown.
        expect(await page.getByTestId('frame-box').isVisible()).toBe(false);
        for (const slug of ['3x4', '9x16', '1x1', '16x9'] as const) {
          await pickFormat(page, slug);
          await expect.poll(() => page.getByTestId('frame-preview').getAttribute('data-format')).toBe(slug);
          await expect.poll(() => frameRatio(page)).toBeCloseTo(RATIO[slug], 2);
          expect(await page.getByTestId('frame-status').textContent()).toContain('автоматически');
        }

        // Tapping the product moves the frame to it.
        await pickFormat(page, '9x16');
        await expect.poll(() => frameRatio(page)).toBeCloseTo(RATIO['9x16'], 2);
        const box = (await page.getByTestId('frame-preview').boundingBox())!;
        await page.getByTestId('frame-preview').click({ position: { x: box.width * 0.9, y: box.height / 2 } });
        await expect.poll(() => page.getByTestId('frame-status').textContent()).toContain('смещён');
        expect(await page.locator('#frame-reset').isVisible()).toBe(true);
        await screenshot(page, `formats-preview-${name}`);

        // Template mode: the template decides, and the page says so.
        await page.getByTestId('mode-template').check();
        expect(await page.getByTestId('format-template-note').isVisible()).toBe(true);
        expect(await page.getByTestId('frame-box').isVisible()).toBe(false);
        await page.getByTestId('mode-prompt').check();
        await expect.poll(() => page.getByTestId('frame-box').isVisible()).toBe(true);

        await page.getByTestId('prompt').fill('Кружка кофе на столе, поднимается пар, камера медленно приближается');
        await page.getByTestId('generate').click();
        await page.getByTestId('result').waitFor({ state: 'visible', timeout: 30_000 });
        await page.waitForFunction(() => (document.querySelector<HTMLVideoElement>('[data-testid=result-video]')?.readyState ?? 0) >= 2, null, { timeout: 15_000 });

        // The player has the video's own shape: no bars around a vertical clip.
        const player = await page.getByTestId('result-video').evaluate((video: HTMLVideoElement) => ({
          box: video.clientWidth / video.clientHeight,
          video: video.videoWidth / video.videoHeight,
          width: video.clientWidth,
          height: video.clientHeight,
          parent: (() => {
            const panel = video.parentElement!;
            const style = getComputedStyle(panel);
            return panel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
          })(),
          poster: video.poster,
        }));
        expect(player.video).toBeCloseTo(9 / 16, 1);
        expect(player.box).toBeCloseTo(player.video, 2);
        expect(player.poster).toContain('/poster.jpg');
        expect(player.height).toBeLessThanOrEqual(viewport.height * 0.75 + 1);
        // On a phone a vertical clip takes the panel's width while it fits in ¾ of the screen.
        if (name === 'phone') expect(player.width).toBeGreaterThanOrEqual(Math.min(player.parent, viewport.height * 0.75 * (9 / 16)) - 2);
        await screenshot(page, `formats-player-${name}`);

        // History shows the poster at the same shape, not the MP4.
        const card = page.getByTestId('history-item').first();
        await expect.poll(() => card.locator('[data-thumb]').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
        const thumb = await card.locator('[data-thumb-box]').evaluate((el) => el.clientWidth / el.clientHeight);
        expect(thumb).toBeCloseTo(9 / 16, 1);
        expect(await card.textContent()).toContain('9:16');

        // «Скачать для…» → Клипы: the server makes it, the browser downloads it.
        await page.getByTestId('export-menu').locator('summary').click();
        const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId('export-clips').click()]);
        expect(download.suggestedFilename()).toBe('beem-ролик-9x16-clips.mp4');
        const saved = path.join(ARTIFACTS, `export-clips-${name}.mp4`);
        await download.saveAs(saved);
        expect(fs.readFileSync(saved).subarray(4, 8).toString('latin1')).toBe('ftyp');
        if (!skipFfmpeg) expect(probeVideo(saved)).toMatchObject({ width: 1080, height: 1920, codec: 'h264' });
        await expect.poll(() => page.getByTestId('export-status').textContent()).toContain('готов');
        await screenshot(page, `formats-exports-${name}`);
        assertClean(watched);
      } finally {
        await watched.context.close();
      }
    });
  }
});
