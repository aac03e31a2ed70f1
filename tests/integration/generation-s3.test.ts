import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { balanceOf, expectLedgerConsistent, generate, generationRow, ledgerOf, startPipelineStack, uploadPhoto, waitForStatus, waitUntil } from '../helpers/generation.ts';
import { s3EnvOf } from '../helpers/app.ts';
import { storedBytes, storedKeys } from '../helpers/blobs.ts';
import { startS3Forwarder, startS3Server, type S3Forwarder, type TestS3Server } from '../helpers/s3-server.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';

/**
 * The pipeline on S3 storage whatever BEEM_TEST_STORAGE says: the video MiniMax made is
 * streamed into the bucket, a bucket that fails while it is stored makes the download step
 * retry (never a success without its file), and the video route answers ranges from it.
 * The app reaches the S3 server through a forwarder (the network boundary) that can fail
 * the video's uploads.
 */

const PROMPT = 'Флакон духов на мраморе, камера медленно приближается';

describe('generations on S3 storage', () => {
  let s3: TestS3Server;
  let forwarder: S3Forwarder;
  let stack: TestStack & { minimax: MinimaxEmulator };
  /** While true, every write of a video (.mp4 under videos/) is answered 503 by the "bucket". */
  let videoWritesFail = false;
  const isVideoWrite = (request: { method: string; url: string }) => ['PUT', 'POST'].includes(request.method) && /\/videos\/[^/?]+\.mp4/.test(request.url);

  beforeAll(async () => {
    s3 = await startS3Server('beem-generations');
    forwarder = await startS3Forwarder(s3.endpoint, (request) => (videoWritesFail && isVideoWrite(request) ? 503 : null));
    stack = await startPipelineStack({ env: { ...s3EnvOf({ ...s3, endpoint: forwarder.endpoint }), QUEUE_MAX_ATTEMPTS: '6' } });
  });
  afterAll(async () => {
    await stack?.stop();
    await forwarder?.stop();
    await s3?.stop();
  });

  async function startGeneration(): Promise<{ userId: string; cookie: string; id: string }> {
    const { user, cookie } = await createSignedInUser(stack.app.ctx, { balance: 2 });
    expect((await uploadPhoto(stack.app.url, cookie)).status).toBe(200);
    const res = await generate(stack.app.url, cookie, { prompt: PROMPT, duration: 6, mode: 'prompt' });
    expect(res.status).toBe(200);
    const { generationId } = (await res.json()) as { generationId: string };
    return { userId: user.id, cookie, id: generationId };
  }

  it('streams the finished video into the bucket, under the path the database keeps', async () => {
    const { userId, cookie, id } = await startGeneration();
    expect(await waitForStatus(stack.app.url, cookie, id)).toMatchObject({ status: 'success', charged: true });
    const row = await generationRow(stack.app.ctx, id);
    expect(row.video_path).toBe(`users/${userId}/videos/${id}.mp4`);
    expect(await storedKeys(stack.app.ctx, `users/${userId}/videos/${id}.mp4`)).toEqual([row.video_path]);
    const video = await storedBytes(stack.app.ctx, row.video_path as string);
    expect(video.length).toBe(row.video_bytes);
    expect(video.subarray(4, 8).toString('latin1')).toBe('ftyp');
    // The poster is taken from a scratch copy for ffmpeg and stored beside the video in the bucket.
    if (stack.app.ctx.ffmpeg.available) {
      await waitUntil(async () => (await generationRow(stack.app.ctx, id)).poster_path !== null, 15_000, 'the poster');
      const poster = (await generationRow(stack.app.ctx, id)).poster_path as string;
      expect(await storedKeys(stack.app.ctx, `users/${userId}/videos/`)).toEqual([row.video_path, poster].sort());
    }
    // Nothing of the video stays on the local disk: STORAGE_DIR holds only scratch copies, removed after use.
    const storageDir = stack.app.ctx.config.paths.storageDir;
    const local = fs.existsSync(storageDir) ? fs.readdirSync(storageDir, { recursive: true, encoding: 'utf8' }) : [];
    expect(local.filter((name) => name.endsWith('.mp4'))).toEqual([]);
  });

  it('retries the download while the bucket refuses the video, and succeeds only once it is stored', async () => {
    videoWritesFail = true;
    const { userId, cookie, id } = await startGeneration();
    const refusedBefore = () => forwarder.requests.filter(isVideoWrite).length;
    try {
      // The first download's put failed after the SDK's own retries, and the step is scheduled again.
      await waitUntil(async () => (await generationRow(stack.app.ctx, id)).error_code === 'DOWNLOAD_STORAGE_FAILED', 20_000, 'a storage failure to be recorded');
      expect(refusedBefore()).toBeGreaterThan(1);
      const meanwhile = await generationRow(stack.app.ctx, id);
      expect(meanwhile).toMatchObject({ status: 'processing', step: 'download', charged: 0, video_path: null });
      expect(await storedKeys(stack.app.ctx, `users/${userId}/videos/`)).toEqual([]);
    } finally {
      videoWritesFail = false;
    }
    expect(await waitForStatus(stack.app.url, cookie, id, ['success', 'failed'], 20_000)).toMatchObject({ status: 'success', charged: true, refunded: false });
    const row = await generationRow(stack.app.ctx, id);
    expect((await storedBytes(stack.app.ctx, row.video_path as string)).length).toBe(row.video_bytes);
    expect((await ledgerOf(stack.app.ctx, userId)).filter((l) => l.reference.endsWith(id)).map((l) => [l.kind, l.delta])).toEqual([['hold', -1]]);
    expect(await balanceOf(stack.app.ctx, userId)).toBe(1);
    await expectLedgerConsistent(stack.app.ctx);
  });

  it('fails and refunds a generation whose video the bucket never takes, with no success on record', async () => {
    videoWritesFail = true;
    try {
      const { userId, cookie, id } = await startGeneration();
      expect(await waitForStatus(stack.app.url, cookie, id, ['success', 'failed'], 30_000)).toMatchObject({ status: 'failed', charged: false, refunded: true });
      expect(await generationRow(stack.app.ctx, id)).toMatchObject({ error_code: 'DOWNLOAD_STORAGE_FAILED', video_path: null });
      expect(await storedKeys(stack.app.ctx, `users/${userId}/videos/`)).toEqual([]);
      expect(await balanceOf(stack.app.ctx, userId)).toBe(2);
      await expectLedgerConsistent(stack.app.ctx);
    } finally {
      videoWritesFail = false;
    }
  });

  it('answers the video route from the bucket with ranges, whole, suffix and unsatisfiable', async () => {
    const { cookie, id } = await startGeneration();
    await waitForStatus(stack.app.url, cookie, id);
    const stored = await storedBytes(stack.app.ctx, (await generationRow(stack.app.ctx, id)).video_path as string);
    const get = (range?: string) => apiFetch(stack.app.url, `/api/video/${id}`, { cookie, headers: range ? { Range: range } : {} });

    const whole = await get();
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await whole.arrayBuffer()).equals(stored)).toBe(true);

    const middle = await get('bytes=100-1099');
    expect(middle.status).toBe(206);
    expect(middle.headers.get('content-range')).toBe(`bytes 100-1099/${stored.length}`);
    expect(Buffer.from(await middle.arrayBuffer()).equals(stored.subarray(100, 1100))).toBe(true);

    const tail = await get('bytes=-500');
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(stored.subarray(stored.length - 500))).toBe(true);

    const past = await get(`bytes=${stored.length}-`);
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${stored.length}`);
    await past.body?.cancel();

    // Another seller gets the same 404 as for a video that does not exist: the owner check stands.
    const stranger = await createSignedInUser(stack.app.ctx);
    expect((await apiFetch(stack.app.url, `/api/video/${id}`, { cookie: stranger.cookie })).status).toBe(404);
  });
});
