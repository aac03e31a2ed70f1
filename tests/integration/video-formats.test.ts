import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { balanceOf, FAST_QUEUE_ENV, generate, generationRow, photo, startPipelineStack, uploadPhoto, waitForPoster, waitForStatus } from '../helpers/generation.ts';
import { capturedLog } from '../helpers/log.ts';
import { startStack } from '../helpers/stack.ts';
import { FAST_MINIMAX } from '../../sandbox/minimax/test-support.ts';
import { imageSize } from '../helpers/media.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import { readStoredMp4Info } from '../../src/lib/video/mp4-info.ts';
import { storedBytes } from '../helpers/blobs.ts';
import { retryGeneration } from '../../src/lib/generation/create.ts';

const PROMPT = 'Кроссовки на белом подиуме, камера медленно приближается';

async function bytesOf(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

describe('formats: the chosen shape reaches MiniMax and comes back', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  beforeAll(async () => {
    stack = await startPipelineStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('sends a 3:4 first frame for a 3:4 choice and gets a 3:4 video, poster and all', async () => {
    const { app } = stack;
    const { cookie } = await createSignedInUser(app.ctx, { balance: 5 });
    expect((await uploadPhoto(app.url, cookie, await photo(1200, 900))).status).toBe(200);
    const preview = await apiFetch(app.url, '/api/uploads/current?format=3:4', { cookie });
    expect(preview.status).toBe(200);
    const previewBytes = await bytesOf(preview);
    expect(await imageSize(previewBytes)).toEqual({ width: 675, height: 900, format: 'jpeg' });

    const res = await generate(app.url, cookie, { prompt: PROMPT, duration: 6, mode: 'prompt', format: '3:4' });
    expect(res.status).toBe(200);
    const { generationId } = (await res.json()) as { generationId: string };
    const done = await waitForStatus(app.url, cookie, generationId);
    expect(done.status).toBe('success');

    // MiniMax got a 3:4 picture: its output follows the first frame (768P → 768×1024).
    const task = stack.minimax.tasks().find((t) => t.kind === 'video' && t.prompt.length > 0 && t.videoWidth === 768);
    expect(task).toMatchObject({ videoWidth: 768, videoHeight: 1024 });
    // And exactly the frame the page previewed.
    const row = await generationRow(app.ctx, generationId);
    expect(row.video_format).toBe('3:4');
    expect((await storedBytes(app.ctx, row.frame_path as string)).equals(previewBytes)).toBe(true);

    // The video is 3:4 by its own header, and the status says so.
    const info = await readStoredMp4Info(app.ctx.blobs, row.video_path as string);
    expect(info).toMatchObject({ width: 120, height: 160 });
    expect(done).toMatchObject({ format: '3:4', width: 120, height: 160 });

    // The poster is taken from the video with ffmpeg once it is delivered (the first frame stands
    // in until then): a JPEG of the video's size.
    const posterUrl = `/api/video/${generationId}/poster.jpg`;
    await waitForPoster(app.url, cookie, generationId, posterUrl);
    const poster = await apiFetch(app.url, posterUrl, { cookie });
    expect(poster.status).toBe(200);
    expect(poster.headers.get('content-type')).toBe('image/jpeg');
    expect(await imageSize(await bytesOf(poster))).toEqual({ width: 120, height: 160, format: 'jpeg' });

    const history = (await (await apiFetch(app.url, '/api/generations', { cookie })).json()) as { items: Array<Record<string, unknown>> };
    expect(history.items[0]).toMatchObject({ id: generationId, format: '3:4', width: 120, height: 160, posterUrl });
  });

  it('moves the crop to the seller’s focus point, and the worker sends that crop', async () => {
    const { app } = stack;
    const { cookie } = await createSignedInUser(app.ctx, { balance: 5 });
    await uploadPhoto(app.url, cookie, await photo(1200, 900));
    const left = await bytesOf(await apiFetch(app.url, '/api/uploads/current?format=9:16&fx=0&fy=0.5', { cookie }));
    const right = await bytesOf(await apiFetch(app.url, '/api/uploads/current?format=9:16&fx=1&fy=0.5', { cookie }));
    expect(await imageSize(left)).toEqual({ width: 506, height: 900, format: 'jpeg' });
    expect(left.equals(right)).toBe(false);

    const res = await generate(app.url, cookie, { prompt: PROMPT, duration: 6, mode: 'prompt', format: '9:16', focus: { x: 1, y: 0.5 } });
    const { generationId } = (await res.json()) as { generationId: string };
    const done = await waitForStatus(app.url, cookie, generationId);
    expect(done).toMatchObject({ status: 'success', format: '9:16', width: 120, height: 214 });
    const row = await generationRow(app.ctx, generationId);
    expect([row.focus_x, row.focus_y]).toEqual([1000, 500]);
    expect((await storedBytes(app.ctx, row.frame_path as string)).equals(right)).toBe(true);
  });

  it('lets the template decide the shape in template mode', async () => {
    const { app } = stack;
    const { cookie } = await createSignedInUser(app.ctx, { balance: 5 });
    await uploadPhoto(app.url, cookie, await photo(1200, 900));
    const res = await generate(app.url, cookie, { prompt: 'Беговые кроссовки', duration: 6, mode: 'template', format: '9:16' });
    const { generationId } = (await res.json()) as { generationId: string };
    const done = await waitForStatus(app.url, cookie, generationId);
    expect(done).toMatchObject({ status: 'success', format: 'original' });
    expect((done.width as number) / (done.height as number)).toBeCloseTo(4 / 3, 1);
  });

  it('keeps the format and focus point when a failed video is queued again', async () => {
    const { app } = stack;
    const { user, cookie } = await createSignedInUser(app.ctx, { balance: 5 });
    await uploadPhoto(app.url, cookie, await photo(1200, 900));
    stack.minimax.injectFault({ kind: 'task_fail', code: 1027 });
    const res = await generate(app.url, cookie, { prompt: PROMPT, duration: 6, mode: 'prompt', format: '9:16', focus: { x: 0.2, y: 0.3 } });
    const { generationId } = (await res.json()) as { generationId: string };
    expect((await waitForStatus(app.url, cookie, generationId)).status).toBe('failed');
    const again = await retryGeneration(app.ctx.db, { sourceId: generationId, free: true, now: app.ctx.clock.now() });
    const retried = await waitForStatus(app.url, cookie, again.generationId);
    expect(retried).toMatchObject({ status: 'success', format: '9:16', width: 120, height: 214 });
    expect(await generationRow(app.ctx, again.generationId)).toMatchObject({ video_format: '9:16', focus_x: 200, focus_y: 300, userId: user.id });
  });

  it('refuses an unknown format or focus in Russian and holds no credits', async () => {
    const { app } = stack;
    const { user, cookie } = await createSignedInUser(app.ctx, { balance: 2 });
    await uploadPhoto(app.url, cookie);
    const bad = await generate(app.url, cookie, { prompt: PROMPT, duration: 6, mode: 'prompt', format: '4:5' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'FORMAT_INVALID', field: 'format', error: expect.stringContaining('Выберите формат') });
    const focus = await generate(app.url, cookie, { prompt: PROMPT, duration: 6, mode: 'prompt', format: '1:1', focus: { x: 2, y: 0 } });
    expect(focus.status).toBe(400);
    expect(await focus.json()).toMatchObject({ code: 'FOCUS_INVALID' });
    expect(await balanceOf(app.ctx, user.id)).toBe(2);
    expect(await app.ctx.db.value('SELECT COUNT(*) FROM generations WHERE userId = ?', [user.id])).toBe(0);
  });

  it('previews only the owner’s photo, and refuses a bad format or focus on the preview', async () => {
    const { app } = stack;
    const owner = await createSignedInUser(app.ctx);
    const other = await createSignedInUser(app.ctx);
    const uploaded = (await (await uploadPhoto(app.url, owner.cookie)).json()) as { uploadId: string };
    expect((await apiFetch(app.url, `/api/uploads/${uploaded.uploadId}?format=1:1`, { cookie: other.cookie })).status).toBe(404);
    expect((await apiFetch(app.url, `/api/uploads/${uploaded.uploadId}?format=1:1`)).status).toBe(401);
    const wrong = await apiFetch(app.url, `/api/uploads/${uploaded.uploadId}?format=5:4`, { cookie: owner.cookie });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ code: 'FORMAT_INVALID' });
    const badFocus = await apiFetch(app.url, `/api/uploads/${uploaded.uploadId}?format=1:1&fx=0.5`, { cookie: owner.cookie });
    expect(badFocus.status).toBe(400);
    expect((await apiFetch(app.url, `/api/uploads/${uploaded.uploadId}?format=original`, { cookie: owner.cookie })).status).toBe(200);
  });

  it('shows the cropped first frame as the poster while the video is being made', async () => {
    const { app } = stack;
    const { cookie } = await createSignedInUser(app.ctx, { balance: 5 });
    await uploadPhoto(app.url, cookie, await photo(1200, 900));
    // MiniMax takes 1.5 s to accept the task: the generation is still queued when its status is read.
    stack.minimax.injectFault({ kind: 'hang', on: 'create', ms: 1500 });
    const res = await generate(app.url, cookie, { prompt: PROMPT, duration: 6, mode: 'prompt', format: '1:1' });
    const { generationId } = (await res.json()) as { generationId: string };
    const status = (await (await apiFetch(app.url, `/api/status?generationId=${generationId}`, { cookie })).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ format: '1:1', width: null, height: null, posterUrl: `/api/video/${generationId}/poster.jpg?frame=1` });
    const poster = await apiFetch(app.url, status.posterUrl as string, { cookie });
    expect(poster.status).toBe(200);
    expect(await imageSize(await bytesOf(poster))).toEqual({ width: 900, height: 900, format: 'jpeg' });
  });
});

describe('without ffmpeg', () => {
  let stack: TestStack;
  const captured = capturedLog('info');
  beforeAll(async () => {
    // FFMPEG_PATH at a binary that does not exist: what a machine without ffmpeg looks like to Beem.
    stack = await startStack({
      background: true,
      log: captured.log,
      env: { ...FAST_QUEUE_ENV, FFMPEG_PATH: path.join('/nonexistent', 'ffmpeg') },
      sandbox: { minimax: { ...FAST_MINIMAX, render: { ...FAST_MINIMAX.render, ffmpeg: null } } },
    });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('says so once in the log', () => {
    expect(captured.lines.filter((line) => String(line.msg).includes('ffmpeg does not run'))).toEqual([
      expect.objectContaining({ level: 'warn', ffmpeg: '/nonexistent/ffmpeg' }),
    ]);
  });

  it('serves the original, uses the first frame as poster, and refuses exports with a clear message', async () => {
    const { app } = stack;
    expect(app.ctx.ffmpeg.available).toBe(false);
    const { cookie } = await createSignedInUser(app.ctx, { balance: 5 });
    await uploadPhoto(app.url, cookie, await photo(900, 1200));
    const res = await generate(app.url, cookie, { prompt: PROMPT, duration: 10, mode: 'prompt', format: '9:16' });
    const { generationId } = (await res.json()) as { generationId: string };
    const done = await waitForStatus(app.url, cookie, generationId);
    // The still clip of the sandbox without ffmpeg: the right shape and length all the same.
    expect(done).toMatchObject({ status: 'success', format: '9:16', width: 120, height: 214, posterUrl: `/api/video/${generationId}/poster.jpg?frame=1` });
    const row = await generationRow(app.ctx, generationId);
    expect(row.video_duration_ms).toBe(10_000);
    expect(row.poster_path).toBeNull();

    const original = await apiFetch(app.url, `/api/video/${generationId}`, { cookie });
    expect(original.status).toBe(200);
    expect(original.headers.get('content-type')).toBe('video/mp4');
    const poster = await bytesOf(await apiFetch(app.url, done.posterUrl as string, { cookie }));
    expect(poster.equals(await storedBytes(app.ctx, row.frame_path as string))).toBe(true);

    const exported = await apiFetch(app.url, `/api/video/${generationId}/export/wildberries`, { cookie });
    expect(exported.status).toBe(503);
    expect(await exported.json()).toMatchObject({ code: 'EXPORTS_UNAVAILABLE', error: expect.stringContaining('Исходный ролик можно скачать') });
    expect((await apiFetch(app.url, `/api/video/${generationId}/export/wildberries/cover.jpg`, { cookie })).status).toBe(503);
    expect(await app.ctx.db.value('SELECT COUNT(*) FROM video_exports')).toBe(0);
    // The page offers no «Скачать для…» menu.
    const page = await (await apiFetch(app.url, '/app', { cookie })).text();
    expect(page).not.toContain('data-testid="export-menu"');
    expect(page).toContain('data-testid="format-picker"');
  });
});
