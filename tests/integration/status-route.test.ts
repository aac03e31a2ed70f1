import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';
import { generate, startPipelineStack, uploadPhoto, waitForStatus } from '../helpers/generation.ts';
import type { TestStack } from '../helpers/stack.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';

/**
 * `/api/status` is answered by a node route in the common case and by the Astro route
 * otherwise; both must give the same answer. A request with `Origin` always goes to Astro
 * (CORS is the middleware's), which is how the two are compared. Astro streams its bodies
 * (chunked), the node route sends a Content-Length: that tells which one answered.
 */
describe('GET /api/status fast path', () => {
  let stack: TestStack & { minimax: MinimaxEmulator };
  let owner: SignedInUser;
  let generationId = '';
  const path = () => `/api/status?generationId=${generationId}`;

  beforeAll(async () => {
    stack = await startPipelineStack();
    owner = await createSignedInUser(stack.app.ctx, { balance: 3 });
    expect((await uploadPhoto(stack.app.url, owner.cookie)).status).toBe(200);
    generationId = ((await (await generate(stack.app.url, owner.cookie, { prompt: 'Часы на запястье, камера облетает', duration: 6, mode: 'prompt' })).json()) as { generationId: string }).generationId;
    await waitForStatus(stack.app.url, owner.cookie, generationId);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const comparable = (body: Record<string, unknown>) => {
    const { elapsedMs: _elapsed, ...rest } = body;
    return rest;
  };

  it('answers the owner without Astro, with the same body and headers as the Astro route', async () => {
    for (const language of ['ru', 'en']) {
      const fast = await apiFetch(stack.app.url, path(), { cookie: owner.cookie, headers: { 'accept-language': language } });
      const astro = await apiFetch(stack.app.url, path(), { cookie: owner.cookie, headers: { 'accept-language': language, origin: stack.app.url } });
      expect(fast.status).toBe(200);
      expect(astro.status).toBe(200);
      expect(fast.headers.get('content-length')).not.toBeNull();
      expect(astro.headers.get('content-length')).toBeNull();
      for (const name of ['content-type', 'cache-control', 'x-content-type-options', 'referrer-policy', 'x-frame-options']) {
        expect(fast.headers.get(name), name).toBe(astro.headers.get(name));
      }
      expect(comparable(await fast.json())).toEqual(comparable(await astro.json()));
    }
  });

  it('leaves errors to the Astro route: no session, a foreign or unknown id, a malformed id', async () => {
    const other = await createSignedInUser(stack.app.ctx);
    expect((await apiFetch(stack.app.url, path())).status).toBe(401);
    const foreign = await apiFetch(stack.app.url, path(), { cookie: other.cookie });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ code: 'GENERATION_NOT_FOUND', error: expect.any(String) });
    expect((await apiFetch(stack.app.url, '/api/status?generationId=gen_1_nothing', { cookie: owner.cookie })).status).toBe(404);
    expect((await apiFetch(stack.app.url, '/api/status?generationId=../etc', { cookie: owner.cookie })).status).toBe(400);
  });

  it('lets the middleware refresh a session past half its lifetime (new cookie) instead of answering itself', async () => {
    const user = await createSignedInUser(stack.app.ctx);
    const { ctx } = stack.app;
    await ctx.db.run('UPDATE generations SET userId = ? WHERE id = ?', [user.user.id, generationId]);
    try {
      await ctx.db.run('UPDATE sessions SET expiresAt = ? WHERE userId = ?', [ctx.clock.now() + 60_000, user.user.id]);
      const res = await apiFetch(stack.app.url, path(), { cookie: user.cookie });
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toMatch(/^beem_session=/);
      const expiresAt = (await ctx.db.value('SELECT expiresAt FROM sessions WHERE userId = ?', [user.user.id])) as number;
      expect(expiresAt).toBeGreaterThan(ctx.clock.now() + ctx.config.session.ttlMs / 2);
    } finally {
      await ctx.db.run('UPDATE generations SET userId = ? WHERE id = ?', [owner.user.id, generationId]);
    }
  });

  it('refuses an account disabled while its session lives, as every API does', async () => {
    const user = await createSignedInUser(stack.app.ctx);
    // Marked directly, so the session is still there when the request comes.
    await stack.app.ctx.db.run('UPDATE users SET disabled = 1 WHERE id = ?', [user.user.id]);
    const res = await apiFetch(stack.app.url, path(), { cookie: user.cookie });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'ACCOUNT_DISABLED' });
  });
});
