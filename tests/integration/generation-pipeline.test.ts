import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser } from '../helpers/users.ts';
import {
  balanceOf,
  expectLedgerConsistent,
  generate,
  generationRow,
  ledgerOf,
  startPipelineStack,
  uploadPhoto,
  waitForStatus,
} from '../helpers/generation.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';

describe('generation pipeline, completion by polling', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  beforeAll(async () => {
    stack = await startPipelineStack();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('makes a playable MP4 in prompt mode and charges the hold once', async () => {
    const { app } = stack;
    const { user, cookie } = await createSignedInUser(app.ctx, { balance: 5 });
    const upload = await uploadPhoto(app.url, cookie);
    expect(upload.status).toBe(200);
    const uploaded = (await upload.json()) as { uploadId: string; width: number; height: number; previewUrl: string };
    expect(uploaded).toMatchObject({ width: 640, height: 480, previewUrl: `/api/uploads/${uploaded.uploadId}` });

    const res = await generate(app.url, cookie, { prompt: 'Флакон духов на столе, камера медленно приближается', duration: 6, mode: 'prompt' });
    expect(res.status).toBe(200);
    const created = (await res.json()) as Record<string, unknown>;
    expect(created).toEqual({
      success: true,
      generationId: expect.stringMatching(/^gen_\d{13}_[a-z0-9]+$/),
      mode: 'prompt',
      cost: 1,
      balanceBefore: 5,
      balanceAfter: 4,
      status: 'queued',
      queueSize: expect.any(Number),
    });
    const id = created.generationId as string;

    const done = await waitForStatus(app.url, cookie, id);
    expect(done).toMatchObject({ id, status: 'success', step: 'done', mode: 'prompt', duration: 6, charged: true, refunded: false, error: null });
    expect(done.videoUrl).toBe(`/api/video/${id}`);
    expect(done.promptFinal).toEqual(expect.any(String));
    expect(await balanceOf(app.ctx, user.id)).toBe(4);
    expect((await ledgerOf(app.ctx, user.id)).filter((l) => l.reference.endsWith(id))).toEqual([{ kind: 'hold', delta: -1, reference: `hold:${id}` }]);
    expect(await app.ctx.db.value('SELECT generation_used FROM users WHERE id = ?', [user.id])).toBe(1);
    expect((await generationRow(app.ctx, id)).prompt_cinematic).toEqual(expect.any(String));
    // The video came from MiniMax's CDN over https: the production rule, no loopback exception.
    const cdn = stack.minimax.state();
    expect(cdn.requestCounts.download).toBeGreaterThan(0);
    expect(cdn.secureDownloads).toBe(cdn.requestCounts.download);

    const video = await apiFetch(app.url, done.videoUrl!, { cookie });
    expect(video.status).toBe(200);
    expect(video.headers.get('content-type')).toBe('video/mp4');
    expect(video.headers.get('accept-ranges')).toBe('bytes');
    expect(video.headers.get('x-content-type-options')).toBe('nosniff');
    const bytes = Buffer.from(await video.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(1000);
    expect(bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');

    const range = await apiFetch(app.url, done.videoUrl!, { cookie, headers: { range: 'bytes=100-199' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await range.arrayBuffer())).toEqual(bytes.subarray(100, 200));

    const download = await apiFetch(app.url, `${done.videoUrl}?download=1`, { cookie });
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="beem-${id}.mp4"`);
    await download.arrayBuffer();

    const current = await apiFetch(app.url, '/api/video/current', { cookie });
    expect(current.status).toBe(200);
    expect(Buffer.from(await current.arrayBuffer())).toEqual(bytes);

    const preview = await apiFetch(app.url, uploaded.previewUrl, { cookie });
    expect(preview.status).toBe(200);
    expect(preview.headers.get('content-type')).toBe('image/jpeg');
    expect(preview.headers.get('cache-control')).toBe('private, max-age=3600');
    const previewBytes = Buffer.from(await preview.arrayBuffer());
    const currentPhoto = await apiFetch(app.url, '/api/uploads/current', { cookie });
    expect(Buffer.from(await currentPhoto.arrayBuffer())).toEqual(previewBytes);

    const history = (await (await apiFetch(app.url, '/api/generations', { cookie })).json()) as { items: Array<{ id: string }> };
    expect(history.items.map((g) => g.id)).toEqual([id]);
    await expectLedgerConsistent(app.ctx);

    // Nobody else sees any of it.
    const other = await createSignedInUser(app.ctx, { balance: 1 });
    for (const path of [`/api/status?generationId=${id}`, done.videoUrl!, uploaded.previewUrl]) {
      const res = await apiFetch(app.url, path, { cookie: other.cookie });
      expect(res.status, path).toBe(404);
      await res.arrayBuffer();
    }
    expect((await apiFetch(app.url, '/api/video/current', { cookie: other.cookie })).status).toBe(404);
    expect((await apiFetch(app.url, done.videoUrl!)).status).toBe(401);
    // An admin may watch it (support).
    const admin = await createSignedInUser(app.ctx, { role: 'admin' });
    const asAdmin = await apiFetch(app.url, done.videoUrl!, { cookie: admin.cookie });
    expect(asAdmin.status).toBe(200);
    await asAdmin.arrayBuffer();
  });

  it('makes a template video through the template endpoints', async () => {
    const { app } = stack;
    const { user, cookie } = await createSignedInUser(app.ctx, { balance: 3 });
    await uploadPhoto(app.url, cookie);
    const res = await generate(app.url, cookie, { prompt: 'Реклама нового напитка в бутылке', duration: 10, mode: 'template' });
    expect(res.status).toBe(200);
    const { generationId, cost } = (await res.json()) as { generationId: string; cost: number };
    expect(cost).toBe(2);
    const done = await waitForStatus(app.url, cookie, generationId);
    expect(done.status).toBe('success');
    expect(done.templateName).toEqual(expect.any(String));
    const row = await generationRow(app.ctx, generationId);
    expect(row.minimax_template_id).toEqual(expect.any(String));
    expect(stack.minimax.task(row.minimax_job_id as string)).toMatchObject({ kind: 'template' });
    const video = await apiFetch(app.url, done.videoUrl!, { cookie });
    expect(Buffer.from(await video.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(await balanceOf(app.ctx, user.id)).toBe(1);
    await expectLedgerConsistent(app.ctx);
  });
});
