import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';
import { FAST_QUEUE_ENV, generate, generationRow, photo, startPipelineStack, uploadPhoto, waitForStatus } from '../helpers/generation.ts';
import { FFMPEG, hangingFfmpeg, requireFfmpeg, skipFfmpeg, imageSize, probeVideo, topLevelBoxes } from '../helpers/media.ts';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { databaseUrlOf, startApp, storageEnvOf, tempDir } from '../helpers/app.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import { FAST_MINIMAX } from '../../sandbox/minimax/test-support.ts';
import { EXPORT_TARGETS, EXPORT_TARGET_IDS, type ExportTargetId } from '../../src/lib/video/formats.ts';

/** Asks for an export until it is made: 202 + Retry-After while it is being made, then the file. */
async function fetchExport(baseUrl: string, cookie: string, urlPath: string, timeoutMs = 60_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await apiFetch(baseUrl, urlPath, { cookie });
    if (res.status !== 202) return res;
    expect(res.headers.get('retry-after')).toBe('2');
    await res.body?.cancel();
    if (Date.now() > deadline) throw new Error(`${urlPath} was not made within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function saveTo(res: Response, file: string): Promise<string> {
  fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

async function makeVideo(stack: TestStack, seller: SignedInUser, format = '3:4', duration = 6): Promise<string> {
  await uploadPhoto(stack.app.url, seller.cookie, await photo(1200, 900));
  const res = await generate(stack.app.url, seller.cookie, { prompt: 'Кружка кофе на столе, камера приближается', duration, mode: 'prompt', format });
  const { generationId } = (await res.json()) as { generationId: string };
  expect((await waitForStatus(stack.app.url, seller.cookie, generationId)).status).toBe('success');
  return generationId;
}

describe.skipIf(skipFfmpeg)('marketplace exports', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  let seller: SignedInUser;
  let videoId: string;
  let dir: string;
  beforeAll(async () => {
    requireFfmpeg();
    stack = await startPipelineStack();
    dir = tempDir('beem-exports-');
    seller = await createSignedInUser(stack.app.ctx, { balance: 10 });
    videoId = await makeVideo(stack, seller);
  });
  afterAll(async () => {
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const expectedSeconds: Record<ExportTargetId, number> = { wildberries: 6, ozon: 12, 'ozon-cover': 6, clips: 6, square: 6, wide: 6 };

  it.each(EXPORT_TARGET_IDS)('makes %s: H.264 High, yuv420p, its size, its length, moov before mdat', async (target) => {
    const res = await fetchExport(stack.app.url, seller.cookie, `/api/video/${videoId}/export/${target}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const file = await saveTo(res, path.join(dir, `${target}.mp4`));
    const probe = probeVideo(file);
    expect(probe).toMatchObject({ codec: 'h264', profile: 'High', pixFmt: 'yuv420p', width: EXPORT_TARGETS[target].width, height: EXPORT_TARGETS[target].height, audio: false });
    expect(probe.duration).toBeCloseTo(expectedSeconds[target], 0);
    const boxes = topLevelBoxes(file);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
    expect(boxes.indexOf('moov')).toBeGreaterThan(-1);
  });

  it('crops instead of filling when asked, and keeps the two apart', async () => {
    const res = await fetchExport(stack.app.url, seller.cookie, `/api/video/${videoId}/export/clips?fit=crop`);
    expect(res.status).toBe(200);
    const file = await saveTo(res, path.join(dir, 'clips-crop.mp4'));
    expect(probeVideo(file)).toMatchObject({ width: 1080, height: 1920 });
    // The crop fills the frame with the picture: its corner is the photo's orange, not a blur of it.
    const rows = await stack.app.ctx.db.all('SELECT fit, state FROM video_exports WHERE generationId = ? AND target = ? ORDER BY fit', [videoId, 'clips']);
    expect(rows).toEqual([
      { fit: 'blur', state: 'done' },
      { fit: 'crop', state: 'done' },
    ]);
  });

  it.each(['wildberries', 'clips', 'wide'] as const)('makes the %s cover: the poster as a JPEG of the target’s size', async (target) => {
    const res = await fetchExport(stack.app.url, seller.cookie, `/api/video/${videoId}/export/${target}/cover.jpg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(await imageSize(Buffer.from(await res.arrayBuffer()))).toEqual({ width: EXPORT_TARGETS[target].width, height: EXPORT_TARGETS[target].height, format: 'jpeg' });
  });

  it('serves a made export with Range and a download name in ASCII and in Russian', async () => {
    await fetchExport(stack.app.url, seller.cookie, `/api/video/${videoId}/export/wildberries`);
    const ranged = await apiFetch(stack.app.url, `/api/video/${videoId}/export/wildberries`, { cookie: seller.cookie, headers: { range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    expect((await ranged.arrayBuffer()).byteLength).toBe(100);
    const download = await apiFetch(stack.app.url, `/api/video/${videoId}/export/wildberries?download=1`, { cookie: seller.cookie });
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename="beem-3x4-wildberries.mp4"; filename*=UTF-8''${encodeURIComponent('beem-ролик-3x4-wildberries.mp4')}`,
    );
    await download.body?.cancel();
  });

  it('belongs to the video’s owner: others get 404, signed-out 401, an admin may look', async () => {
    const url = `/api/video/${videoId}/export/square`;
    const stranger = await createSignedInUser(stack.app.ctx);
    const admin = await createSignedInUser(stack.app.ctx, { role: 'admin' });
    for (const suffix of ['', '/cover.jpg']) {
      const foreign = await apiFetch(stack.app.url, `${url}${suffix}`, { cookie: stranger.cookie });
      expect(foreign.status).toBe(404);
      expect(await foreign.json()).toMatchObject({ code: 'VIDEO_NOT_FOUND' });
      expect((await apiFetch(stack.app.url, `${url}${suffix}`)).status).toBe(401);
    }
    expect((await apiFetch(stack.app.url, `/api/video/${videoId}/poster.jpg`, { cookie: stranger.cookie })).status).toBe(404);
    expect((await fetchExport(stack.app.url, admin.cookie, url)).status).toBe(200);
    // A stranger's request made nothing: the only row is the admin's.
    expect(await stack.app.ctx.db.value(`SELECT COUNT(*) FROM video_exports WHERE generationId = ? AND target = 'square'`, [videoId])).toBe(1);
  });

  it('refuses unknown targets, fits and methods in the seller’s words', async () => {
    const unknown = await apiFetch(stack.app.url, `/api/video/${videoId}/export/tiktok`, { cookie: seller.cookie });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'EXPORT_TARGET_UNKNOWN', error: expect.stringContaining('Скачать для') });
    const fit = await apiFetch(stack.app.url, `/api/video/${videoId}/export/clips?fit=stretch`, { cookie: seller.cookie });
    expect(fit.status).toBe(400);
    expect(await fit.json()).toMatchObject({ code: 'EXPORT_FIT_INVALID' });
    expect((await apiFetch(stack.app.url, `/api/video/${videoId}/export/clips`, { cookie: seller.cookie, method: 'POST' })).status).toBe(405);
  });

  it('makes one export however many ask at once: later requests wait for the first', async () => {
    const other = await makeVideo(stack, seller, '16:9');
    const url = `/api/video/${other}/export/wide`;
    const answers = await Promise.all(Array.from({ length: 5 }, () => apiFetch(stack.app.url, url, { cookie: seller.cookie })));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect((await fetchExport(stack.app.url, seller.cookie, url)).status).toBe(200);
    expect(await stack.app.ctx.db.all(`SELECT attempt, state FROM video_exports WHERE generationId = ? AND target = 'wide'`, [other])).toEqual([
      { attempt: 1, state: 'done' },
    ]);
  });

  it('makes one export when two processes on the same database are asked at once', async () => {
    const other = await makeVideo(stack, seller, '9:16');
    const { ctx } = stack.app;
    // A second server process in all but name: its own context, worker and export runner, the same files.
    const second = await startApp({
      background: true,
      env: { ...FAST_QUEUE_ENV, DATABASE_URL: databaseUrlOf(ctx), ...storageEnvOf(ctx), SANDBOX_URL: stack.sandbox.url },
    });
    try {
      const url = `/api/video/${other}/export/square/cover.jpg`;
      const [first, next] = await Promise.all([apiFetch(stack.app.url, url, { cookie: seller.cookie }), apiFetch(second.url, url, { cookie: seller.cookie })]);
      expect([first.status, next.status]).toEqual([202, 202]);
      const [a, b] = await Promise.all([fetchExport(stack.app.url, seller.cookie, url), fetchExport(second.url, seller.cookie, url)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(Buffer.from(await a.arrayBuffer()).equals(Buffer.from(await b.arrayBuffer()))).toBe(true);
      expect(await ctx.db.all(`SELECT attempt, state FROM video_exports WHERE generationId = ?`, [other])).toEqual([{ attempt: 1, state: 'done' }]);
    } finally {
      await second.stop();
    }
  });

  it('takes over an export whose process died mid-way (its lease lapsed) and finishes it', async () => {
    const other = await makeVideo(stack, seller, '1:1');
    const now = stack.app.ctx.clock.now();
    await stack.app.ctx.db.run(
      `INSERT INTO video_exports (generationId, target, fit, kind, state, attempt, locked_by, locked_until, requestedAt, startedAt, updatedAt)
       VALUES (?, 'square', 'blur', 'video', 'running', 1, 'gone-host:1:exp-dead', ?, ?, ?, ?)`,
      [other, now - 1, now - 5_000, now - 5_000, now - 5_000],
    );
    const res = await fetchExport(stack.app.url, seller.cookie, `/api/video/${other}/export/square`);
    expect(res.status).toBe(200);
    expect(await stack.app.ctx.db.get(`SELECT attempt, state, locked_by FROM video_exports WHERE generationId = ?`, [other])).toEqual({
      attempt: 2,
      state: 'done',
      locked_by: null,
    });
  });

  it('makes the export again when its file went missing', async () => {
    await fetchExport(stack.app.url, seller.cookie, `/api/video/${videoId}/export/wildberries`);
    const row = (await stack.app.ctx.db.get<{ path: string }>(`SELECT path FROM video_exports WHERE generationId = ? AND target = 'wildberries' AND fit = 'blur' AND kind = 'video'`, [videoId]))!;
    await stack.app.ctx.blobs.delete(row.path);
    const again = await apiFetch(stack.app.url, `/api/video/${videoId}/export/wildberries`, { cookie: seller.cookie });
    expect(again.status).toBe(202);
    expect((await fetchExport(stack.app.url, seller.cookie, `/api/video/${videoId}/export/wildberries`)).status).toBe(200);
  });

  it('keeps a sound track where the place plays sound, and drops it for Ozon’s muted cover', async () => {
    const other = await makeVideo(stack, seller, '3:4');
    // An original with sound: MiniMax's clips may carry audio, the sandbox's do not.
    const stored = path.join(dir, 'with-sound.mp4');
    const made = spawnSync(FFMPEG!, [
      '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=120x160:r=12:d=6', '-f', 'lavfi', '-i', 'sine=f=440:d=6',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-movflags', '+faststart', '-f', 'mp4', stored,
    ]);
    expect(made.status).toBe(0);
    await stack.app.ctx.blobs.putFile((await generationRow(stack.app.ctx, other)).video_path as string, stored);
    const withSound = await saveTo(await fetchExport(stack.app.url, seller.cookie, `/api/video/${other}/export/clips`), path.join(dir, 'sound.mp4'));
    const silent = await saveTo(await fetchExport(stack.app.url, seller.cookie, `/api/video/${other}/export/ozon-cover`), path.join(dir, 'silent.mp4'));
    expect(probeVideo(withSound).audio).toBe(true);
    expect(probeVideo(silent).audio).toBe(false);
  });
});

/**
 * A stack whose ffmpeg never finishes (every export and poster hangs until its timeout), for
 * the describe block it is called in; `env` adds the export settings under test.
 */
function useHangingFfmpegStack(env: Record<string, string>): () => TestStack {
  let stack: TestStack;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('beem-hanging-ffmpeg-');
    stack = await startStack({
      background: true,
      env: { ...FAST_QUEUE_ENV, FFMPEG_PATH: hangingFfmpeg(dir), ...env },
      sandbox: { minimax: { ...FAST_MINIMAX, render: { ...FAST_MINIMAX.render, ffmpeg: null } } },
    });
  });
  afterAll(async () => {
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => stack;
}

describe('an export that does not finish in time', () => {
  const current = useHangingFfmpegStack({ EXPORT_TIMEOUT_MS: '1000' });

  it('is stopped at the timeout and the seller is told in Russian; the video itself is unharmed', async () => {
    const stack = current();
    const seller = await createSignedInUser(stack.app.ctx, { balance: 5 });
    // Its poster (taken after delivery, on its own ffmpeg lane) hangs too: the video is still
    // delivered, with the first frame as its poster.
    const id = await makeVideo(stack, seller, '9:16');
    expect((await generationRow(stack.app.ctx, id)).poster_path).toBeNull();
    const first = await apiFetch(stack.app.url, `/api/video/${id}/export/clips`, { cookie: seller.cookie });
    expect(first.status).toBe(202);
    const failed = await fetchExport(stack.app.url, seller.cookie, `/api/video/${id}/export/clips`);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ code: 'EXPORT_TIMEOUT', error: expect.stringContaining('слишком долго') });
    expect(await stack.app.ctx.db.get('SELECT state, error_code FROM video_exports WHERE generationId = ?', [id])).toEqual({ state: 'failed', error_code: 'EXPORT_TIMEOUT' });
    expect((await apiFetch(stack.app.url, `/api/video/${id}`, { cookie: seller.cookie })).status).toBe(200);
    // No ffmpeg is left running: the hung process was killed.
    expect(stack.app.ctx.ffmpeg.running()).toBe(0);
  });
});

describe('one seller asking for many exports at once', () => {
  // Every export asked for stays pending or running while the test asks for more.
  const current = useHangingFfmpegStack({ EXPORT_TIMEOUT_MS: '5000', EXPORT_CONCURRENCY: '1', EXPORTS_PER_USER: '2' });

  it('queues their allowance, refuses more in Russian without queuing it, and does not hold back another seller', async () => {
    const stack = current();
    const seller = await createSignedInUser(stack.app.ctx, { balance: 5 });
    const id = await makeVideo(stack, seller, '9:16');
    const ask = (who: SignedInUser, video: string, target: string) => apiFetch(stack.app.url, `/api/video/${video}/export/${target}`, { cookie: who.cookie });
    expect((await ask(seller, id, 'clips')).status).toBe(202);
    expect((await ask(seller, id, 'wildberries')).status).toBe(202);
    const third = await ask(seller, id, 'square');
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await third.json()).toMatchObject({ code: 'EXPORTS_BUSY', error: expect.stringContaining('Дождитесь') });
    expect(await stack.app.ctx.db.value("SELECT COUNT(*) FROM video_exports WHERE target = 'square'")).toBe(0);
    // Asking again for one already being made is not a new export.
    expect((await ask(seller, id, 'clips')).status).toBe(202);

    const other = await createSignedInUser(stack.app.ctx, { balance: 5, email: 'other-seller@example.ru' });
    const theirs = await makeVideo(stack, other, '1:1');
    expect((await ask(other, theirs, 'square')).status).toBe(202);
  });
});
