import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { FAST_QUEUE_ENV, generate, generationRow, photo, uploadPhoto, waitForPoster, waitForStatus, waitUntil } from '../helpers/generation.ts';
import { gatedPosterFfmpeg, imageSize } from '../helpers/media.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { tempDir } from '../helpers/app.ts';
import { FAST_MINIMAX } from '../../sandbox/minimax/test-support.ts';

describe('a poster never delays a delivered video', () => {
  let stack: TestStack;
  let dir: string;
  let ffmpeg: Awaited<ReturnType<typeof gatedPosterFfmpeg>>;
  beforeAll(async () => {
    dir = tempDir('beem-gated-posters-');
    ffmpeg = await gatedPosterFfmpeg(dir);
    stack = await startStack({
      background: true,
      // One export slot, held by an export that never ends; posters wait until the test lets them go.
      env: { ...FAST_QUEUE_ENV, FFMPEG_PATH: ffmpeg.path, EXPORT_CONCURRENCY: '1', EXPORT_TIMEOUT_MS: '600000', POSTER_TIMEOUT_MS: '600000' },
      sandbox: { minimax: { ...FAST_MINIMAX, render: { ...FAST_MINIMAX.render, ffmpeg: null } } },
    });
  });
  afterAll(async () => {
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function makeVideo(cookie: string): Promise<string> {
    await uploadPhoto(stack.app.url, cookie, await photo(1200, 900));
    const res = await generate(stack.app.url, cookie, { prompt: 'Кружка кофе на столе, камера приближается', duration: 6, mode: 'prompt', format: '3:4' });
    expect(res.status).toBe(200);
    return ((await res.json()) as { generationId: string }).generationId;
  }

  it('reaches success while its poster waits and an export holds every ffmpeg slot; the poster comes afterwards', async () => {
    const { app } = stack;
    const seller = createSignedInUser(app.ctx, { balance: 5 });

    // A first video is delivered though its poster cannot be taken yet.
    const first = await makeVideo(seller.cookie);
    expect((await waitForStatus(app.url, seller.cookie, first)).status).toBe('success');

    // Its export starts and never ends: the only export slot is taken.
    expect((await apiFetch(app.url, `/api/video/${first}/export/clips`, { cookie: seller.cookie })).status).toBe(202);
    await waitUntil(() => app.ctx.ffmpeg.running() === 1, 15_000, 'the export to hold the slot');

    // A second video is delivered all the same, with the first frame standing in as its poster.
    const second = await makeVideo(seller.cookie);
    const done = await waitForStatus(app.url, seller.cookie, second);
    expect(done).toMatchObject({ status: 'success', width: 120, height: 160, posterUrl: `/api/video/${second}/poster.jpg?frame=1` });
    expect((await generationRow(app.ctx, second)).poster_path).toBeNull();

    // Posters may go now; they come while the export still holds its slot.
    ffmpeg.open();
    const posterUrl = `/api/video/${second}/poster.jpg`;
    await waitForPoster(app.url, seller.cookie, second, posterUrl);
    expect(app.ctx.ffmpeg.running()).toBe(1);
    const poster = await apiFetch(app.url, posterUrl, { cookie: seller.cookie });
    expect(poster.status).toBe(200);
    expect(await imageSize(Buffer.from(await poster.arrayBuffer()))).toEqual({ width: 120, height: 160, format: 'jpeg' });
    await waitUntil(async () => (await generationRow(app.ctx, first)).poster_path !== null, 15_000, 'the poster of the first video');
  });
});
