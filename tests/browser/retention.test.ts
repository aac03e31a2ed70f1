import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createLogger } from '../../src/lib/logger.ts';
import { createLocalBlobStore } from '../../src/lib/blobs/local-store.ts';
import { DAY_MS } from '../../src/lib/video/retention.ts';
import { DEFAULT_RETENTION_SETTINGS, RetentionSweeper } from '../../src/lib/video/retention-sweeper.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { photo } from '../helpers/generation.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { DESKTOP, assertClean, launchBrowser, openPage, screenshot, skipBrowser } from './browser.ts';

/**
 * A video the retention sweep deleted, in Chromium: the history card and the result panel say
 * «Ролик удалён через N дней хранения», show the kept photo, and offer no player, download or
 * export that would only answer 410 (the page would log the failed request).
 */
describe.skipIf(skipBrowser)('an expired video in the browser', () => {
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

  it('says the video was deleted after its storage period, with the photo as its picture and nothing to play or download', async () => {
    const seller = await createSignedInUser(app.ctx, { balance: 3 });
    const store = createLocalBlobStore(app.ctx.config.paths.storageDir);
    const userId = seller.user.id;
    const id = 'gen_expired_in_browser';
    const photoKey = `users/${userId}/uploads/upl_browser.jpg`;
    const videoKey = `users/${userId}/videos/${id}.a1.mp4`;
    await store.put(photoKey, Readable.from([await photo(800, 600)]));
    await store.put(videoKey, Readable.from([Buffer.from('an mp4 that will be deleted')]));
    const completedAt = app.ctx.clock.now() - 45 * DAY_MS;
    await app.ctx.db.run(`INSERT INTO uploads (id, userId, path, mime, width, height, bytes, createdAt) VALUES ('upl_browser', ?, ?, 'image/jpeg', 800, 600, 10, ?)`, [
      userId,
      photoKey,
      completedAt,
    ]);
    await app.ctx.db.run(
      `INSERT INTO generations (id, userId, status, step, duration, cost, charged, upload_id, image_path, prompt, generation_mode, video_path, createdAt, updatedAt, completedAt)
       VALUES (?, ?, 'success', 'done', 6, 1, 1, 'upl_browser', ?, 'Кружка кофе на столе', 'prompt', ?, ?, ?, ?)`,
      [id, userId, photoKey, videoKey, completedAt - 60_000, completedAt, completedAt],
    );
    const sweeper = new RetentionSweeper({ db: app.ctx.db, clock: app.ctx.clock, log: createLogger('silent'), blobs: store, settings: { ...DEFAULT_RETENTION_SETTINGS, days: 30 } });
    expect(await sweeper.runPass()).toMatchObject({ expired: 1, deleted: 1 });

    const watched = await openPage(browser, { baseUrl: app.url, cookie: seller.cookie, viewport: DESKTOP });
    const { page } = watched;
    // The page opens on the video it showed last time: the expired one.
    await page.addInitScript(([key, value]) => localStorage.setItem(key!, value!), [`beem.shownGeneration.${userId}`, id]);
    await page.goto('/app');

    const card = page.locator(`[data-generation-id="${id}"]`);
    await card.waitFor({ state: 'visible' });
    expect(await card.locator('[data-status]').textContent()).toBe('Удалён');
    expect(await card.locator('[data-failure]').textContent()).toBe('Ролик удалён через 30 дней хранения.');
    expect(await card.locator('[data-action="play"]').isVisible()).toBe(false);
    expect(await card.locator('[data-action="download"]').isVisible()).toBe(false);
    const thumb = card.locator('[data-thumb]');
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(800);

    await page.getByTestId('result-expired').waitFor({ state: 'visible' });
    expect(await page.locator('#result-title').textContent()).toBe('Ролик удалён');
    expect(await page.getByTestId('result-expired').textContent()).toBe('Ролик удалён через 30 дней хранения.');
    expect(await page.getByTestId('result-video').isVisible()).toBe(false);
    expect(await page.getByTestId('result-video').getAttribute('src')).toBeNull();
    expect(await page.getByTestId('download').isVisible()).toBe(false);
    await screenshot(page, 'app-expired-video-desktop');
    assertClean(watched);
    await watched.context.close();
  });
});
