import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { startApp, type TestApp } from '../helpers/app.ts';
import { storedKeys } from '../helpers/blobs.ts';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { balanceOf, expectLedgerConsistent, generate, imageForm, photo, uploadPhoto } from '../helpers/generation.ts';

/** Request checks of upload and generate; the worker is not running, so generations stay queued. */
let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app.stop();
});

async function errorOf(res: Response): Promise<{ status: number; code: string; error: string; field?: string; [k: string]: unknown }> {
  const body = (await res.json()) as { code: string; error: string };
  return { status: res.status, ...body };
}

describe('POST /api/upload-image', () => {
  it('asks to sign in first', async () => {
    const res = await apiFetch(app.url, '/api/upload-image', { body: imageForm(await photo()) });
    expect(res.status).toBe(401);
  });

  it('stores a re-encoded JPEG as the current image, whatever type the browser claimed', async () => {
    const { user, cookie } = await createSignedInUser(app.ctx);
    // PNG bytes sent as "photo.jpg, image/jpeg": the bytes decide.
    const res = await apiFetch(app.url, '/api/upload-image', { cookie, body: imageForm(await photo(500, 700, 'png'), 'photo.jpg', 'image/jpeg') });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { uploadId: string };
    const row = (await app.ctx.db.get('SELECT path, mime, width, height FROM uploads WHERE id = ?', [body.uploadId])) as Record<string, unknown>;
    expect(row).toEqual({ path: `users/${user.id}/uploads/${body.uploadId}.jpg`, mime: 'image/jpeg', width: 500, height: 700 });
    const webp = await uploadPhoto(app.url, cookie, await photo(800, 800, 'webp'));
    expect(webp.status).toBe(200);
  });

  it.each([
    ['a text file pretending to be a JPEG', () => Buffer.from('just some text, not a photo at all'), 'IMAGE_TYPE_UNSUPPORTED', /JPEG, PNG и WebP/],
    ['a GIF', () => sharp({ create: { width: 400, height: 400, channels: 3, background: '#f00' } }).gif().toBuffer(), 'IMAGE_TYPE_UNSUPPORTED', /JPEG, PNG и WebP/],
    ['JPEG magic bytes followed by garbage', () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(4000, 9)]), 'IMAGE_UNREADABLE', /Не получилось открыть фото/],
    ['a photo that is too small', () => photo(200, 200), 'IMAGE_TOO_SMALL', /200×200.*не меньше 301 пикселей/],
    ['a photo that is too elongated', () => photo(1300, 400), 'IMAGE_BAD_ASPECT', /1300×400.*2,5 раза/],
  ])('refuses %s with a message that says how to fix it', async (_name, make, code, message) => {
    const { cookie } = await createSignedInUser(app.ctx);
    const err = await errorOf(await apiFetch(app.url, '/api/upload-image', { cookie, body: imageForm(await make(), 'photo.jpg', 'image/jpeg') }));
    expect(err).toMatchObject({ status: 400, code, field: 'image' });
    expect(err.error).toMatch(message);
  });

  it('answers in English when the browser asks for it', async () => {
    const { cookie } = await createSignedInUser(app.ctx);
    const err = await errorOf(
      await apiFetch(app.url, '/api/upload-image', { cookie, body: imageForm(await photo(200, 200)), headers: { 'accept-language': 'en-US,en' } }),
    );
    expect(err.error).toMatch(/The photo is too small \(200×200\)/);
  });

  it('refuses a form without the image field', async () => {
    const { cookie } = await createSignedInUser(app.ctx);
    const form = new FormData();
    form.append('other', 'x');
    expect(await errorOf(await apiFetch(app.url, '/api/upload-image', { cookie, body: form }))).toMatchObject({ status: 400, code: 'IMAGE_MISSING' });
  });

  it('refuses a declared body over 10 MB with 413, storing nothing', async () => {
    const { user, cookie } = await createSignedInUser(app.ctx);
    const big = Buffer.concat([await photo(), Buffer.alloc(11 * 1024 * 1024)]);
    const err = await errorOf(await apiFetch(app.url, '/api/upload-image', { cookie, body: imageForm(big) }));
    expect(err).toMatchObject({ status: 413, code: 'IMAGE_TOO_LARGE' });
    expect(err.error).toMatch(/больше 10 МБ/);
    expect(await app.ctx.db.value('SELECT COUNT(*) FROM uploads WHERE userId = ?', [user.id])).toBe(0);
    expect(await storedKeys(app.ctx, `users/${user.id}/`)).toEqual([]);
  });

  it('refuses an undeclared (chunked) body as soon as it passes 10 MB, before it is all sent', async () => {
    const { cookie } = await createSignedInUser(app.ctx);
    const total = 64 * 1024 * 1024;
    const url = new URL('/api/upload-image', app.url);
    const result = await new Promise<{ status: number; written: number; body: string }>((resolve, reject) => {
      let written = 0;
      let answered = false;
      const req = http.request(url, {
        method: 'POST',
        headers: {
          cookie,
          origin: app.url,
          'content-type': 'multipart/form-data; boundary=XyZ',
          'transfer-encoding': 'chunked',
        },
      });
      req.on('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, written, body: Buffer.concat(chunks).toString('utf8') });
          req.destroy();
        });
      });
      req.on('error', (err) => (answered ? undefined : reject(err)));
      req.write('--XyZ\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n');
      const chunk = Buffer.alloc(256 * 1024, 1);
      const pump = () => {
        while (!answered && written < total) {
          written += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!answered) req.end('\r\n--XyZ--\r\n');
      };
      pump();
    });
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    expect(result.written).toBeLessThan(total / 2);
  });
});

describe('POST /api/generate', () => {
  const valid = { prompt: 'Сумка на белом фоне, камера приближается', duration: 6, mode: 'prompt' };

  it('asks to sign in first', async () => {
    expect((await generate(app.url, '', valid)).status).toBe(401);
  });

  it('needs an uploaded photo before anything else', async () => {
    const { cookie } = await createSignedInUser(app.ctx);
    const err = await errorOf(await generate(app.url, cookie, { prompt: 'x', duration: 7, mode: 'nope' }));
    expect(err).toMatchObject({ status: 400, code: 'NO_IMAGE' });
    expect(err.error).toMatch(/Сначала загрузите фото/);
  });

  it.each([
    ['a short prompt (before a bad duration)', { ...valid, prompt: '  ab  ', duration: 7 }, 'PROMPT_TOO_SHORT', 'prompt'],
    ['no prompt', { ...valid, prompt: undefined }, 'PROMPT_TOO_SHORT', 'prompt'],
    ['2001 characters', { ...valid, prompt: 'я'.repeat(2001) }, 'PROMPT_TOO_LONG', 'prompt'],
    ['duration 7 (before a bad mode)', { ...valid, duration: 7, mode: 'video' }, 'DURATION_INVALID', 'duration'],
    ['duration "six"', { ...valid, duration: 'six' }, 'DURATION_INVALID', 'duration'],
    ['mode "video"', { ...valid, mode: 'video' }, 'MODE_INVALID', 'mode'],
  ])('checks fields in the spec’s order: %s → %s', async (_label, body, code, field) => {
    const { cookie } = await createSignedInUser(app.ctx, { balance: 0 });
    await uploadPhoto(app.url, cookie);
    const err = await errorOf(await generate(app.url, cookie, body));
    expect(err).toMatchObject({ status: 400, code, field });
  });

  it('accepts 2000 characters after trimming, and takes the duration as a number only', async () => {
    const { cookie } = await createSignedInUser(app.ctx, { balance: 5 });
    await uploadPhoto(app.url, cookie);
    // Template mode takes only a request some template fits (issue 16): the text names a product.
    const longest = `Бутылка лимонада ${'я'.repeat(2000 - 'Бутылка лимонада '.length)}`;
    const asText = await generate(app.url, cookie, { prompt: `   ${longest}   `, duration: '10', mode: 'template' });
    expect(await errorOf(asText)).toMatchObject({ status: 400, code: 'DURATION_INVALID', field: 'duration' });
    const res = await generate(app.url, cookie, { prompt: `   ${longest}   `, duration: 10, mode: 'template' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ cost: 2, balanceBefore: 5, balanceAfter: 3, status: 'queued' });
  });

  it('refuses a template request no template fits before holding anything, and names prompt mode with its price', async () => {
    const { user, cookie } = await createSignedInUser(app.ctx, { balance: 5 });
    await uploadPhoto(app.url, cookie);
    const queuedBefore = await app.ctx.db.value('SELECT COUNT(*) FROM generations');
    const cost = app.ctx.config.pricing.generation.prompt[10];
    const ru = await errorOf(await generate(app.url, cookie, { prompt: `   ${'я'.repeat(2000)}   `, duration: 10, mode: 'template' }));
    expect(ru).toMatchObject({ status: 400, code: 'NO_TEMPLATE_FITS', field: 'prompt', promptMode: { cost } });
    expect(ru.error).toMatch(/^Ни один шаблон не подходит к этому описанию.*Кредиты не списаны.*«Свободный сценарий».*кредитов: 2\.$/);
    const en = await errorOf(
      await generate(app.url, cookie, { prompt: 'Сделай красиво и быстро', duration: 10, mode: 'template' }, { 'Accept-Language': 'en' }),
    );
    expect(en).toMatchObject({ status: 400, code: 'NO_TEMPLATE_FITS' });
    expect(en.error).toMatch(/^No template fits this description.*No credits were taken.*"Your own scene".*in credits: 2\)\.$/);
    expect(await balanceOf(app.ctx, user.id)).toBe(5);
    expect(await app.ctx.db.value('SELECT COUNT(*) FROM generations')).toBe(queuedBefore);
    // The same text in prompt mode is taken as it is.
    expect((await generate(app.url, cookie, { prompt: 'Сделай красиво и быстро', duration: 10, mode: 'prompt' })).status).toBe(200);
    await expectLedgerConsistent(app.ctx);
  });

  it('answers 402 with required and current when the balance is short', async () => {
    const { cookie } = await createSignedInUser(app.ctx, { balance: 1 });
    await uploadPhoto(app.url, cookie);
    const err = await errorOf(await generate(app.url, cookie, { ...valid, duration: 10 }));
    expect(err).toMatchObject({ status: 402, code: 'INSUFFICIENT_BALANCE', required: 2, current: 1 });
    expect(err.error).toMatch(/нужно 2, на балансе 1/);
  });

  it('accepts exactly 3 of 10 parallel requests with 3 credits', async () => {
    const { user, cookie } = await createSignedInUser(app.ctx, { balance: 3 });
    await uploadPhoto(app.url, cookie);
    const results = await Promise.all(Array.from({ length: 10 }, () => generate(app.url, cookie, valid)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 402, 402, 402, 402, 402, 402, 402]);
    expect(await balanceOf(app.ctx, user.id)).toBe(0);
    expect(await app.ctx.db.value('SELECT COUNT(*) FROM generations WHERE userId = ?', [user.id])).toBe(3);
    await expectLedgerConsistent(app.ctx);
  });

  it('treats a repeated Idempotency-Key as the same request', async () => {
    const { user, cookie } = await createSignedInUser(app.ctx, { balance: 3 });
    await uploadPhoto(app.url, cookie);
    const headers = { 'idempotency-key': 'click-7f3a9c1e' };
    const [a, b] = await Promise.all([generate(app.url, cookie, valid, headers), generate(app.url, cookie, valid, headers)]);
    const first = (await a.json()) as Record<string, unknown>;
    const second = (await b.json()) as Record<string, unknown>;
    expect(second.generationId).toBe(first.generationId);
    expect(second).toMatchObject({ balanceBefore: 3, balanceAfter: 2 });
    expect(await balanceOf(app.ctx, user.id)).toBe(2);
  });

  it('reports queue position and lists history newest first, page by page', async () => {
    const { cookie } = await createSignedInUser(app.ctx, { balance: 3 });
    await uploadPhoto(app.url, cookie);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(((await (await generate(app.url, cookie, valid)).json()) as { generationId: string }).generationId);
    }
    const status = (await (await apiFetch(app.url, `/api/status?generationId=${ids[2]}`, { cookie })).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ id: ids[2], status: 'queued', step: 'prepare', mode: 'prompt', cost: 1, videoUrl: null, error: null });
    expect(status.queuePosition).toEqual(expect.any(Number));
    const page1 = (await (await apiFetch(app.url, '/api/generations?limit=2', { cookie })).json()) as { items: Array<{ id: string }>; nextCursor: string };
    expect(page1.items.map((g) => g.id)).toEqual([ids[2], ids[1]]);
    const page2 = (await (await apiFetch(app.url, `/api/generations?limit=2&cursor=${page1.nextCursor}`, { cookie })).json()) as {
      items: Array<{ id: string }>;
      nextCursor: string | null;
    };
    expect(page2.items.map((g) => g.id)).toEqual([ids[0]]);
    expect(page2.nextCursor).toBeNull();
  });

  it('answers 404 for a generation that is not yours or does not exist', async () => {
    const owner = await createSignedInUser(app.ctx, { balance: 1 });
    await uploadPhoto(app.url, owner.cookie);
    const { generationId } = (await (await generate(app.url, owner.cookie, valid)).json()) as { generationId: string };
    const other = await createSignedInUser(app.ctx);
    expect((await apiFetch(app.url, `/api/status?generationId=${generationId}`, { cookie: other.cookie })).status).toBe(404);
    expect((await apiFetch(app.url, `/api/status?generationId=gen_1_nothing`, { cookie: owner.cookie })).status).toBe(404);
    expect((await apiFetch(app.url, `/api/video/${generationId}`, { cookie: owner.cookie })).status).toBe(404);
  });
});
