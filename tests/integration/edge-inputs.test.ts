import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';
import { uploadPhoto } from '../helpers/generation.ts';
import { openSignInState, SIGNIN_COOKIE } from '../../src/lib/auth/signin-state.ts';

/**
 * What the edge accepts: return addresses (every place that takes one), text, numbers,
 * idempotency keys and admin one-time keys.
 */

/** Each of these would send the browser to another site if normalised and trusted. */
const HOSTILE_NEXT = [
  '//evil.example/phish',
  '/.//evil.example/phish',
  '/..//evil.example/phish',
  '/%2e//evil.example/phish',
  '/%2E%2E//evil.example/phish',
  '/a/..//evil.example/phish',
  '/a/../..//evil.example/phish',
  '/\\evil.example/phish',
  '/\\/evil.example/phish',
  '\\\\evil.example/phish',
  'https://evil.example/phish',
  'http:evil.example',
  '///evil.example/phish',
  '/%09/evil.example',
  '\t//evil.example',
  '/x\r\nLocation: https://evil.example',
  'javascript:alert(1)',
  '/./%2e//evil.example',
];

/** Same-origin: one `/`, then neither `/` nor `\`; resolves to our own origin. */
function expectSameOrigin(location: string | null, where: string): void {
  expect(location, where).not.toBeNull();
  expect(location!, where).toMatch(/^\/(?![/\\])/);
  expect(location!, where).not.toMatch(/[\u0000-\u001f\\]/);
  expect(new URL(location!, 'https://beem.example').origin, where).toBe('https://beem.example');
}

let stack: TestStack;
let user: SignedInUser;
let admin: SignedInUser;
beforeAll(async () => {
  stack = await startStack();
  user = await createSignedInUser(stack.app.ctx, { email: 'seller@example.ru', balance: 20 });
  admin = await createSignedInUser(stack.app.ctx, { email: 'boss@example.ru', role: 'admin' });
});
afterAll(async () => {
  await stack.stop();
});

describe('return addresses', () => {
  it.each(HOSTILE_NEXT)('keeps /lang?next=%j on this site', async (next) => {
    const res = await fetch(`${stack.app.url}/lang?to=en&next=${encodeURIComponent(next)}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expectSameOrigin(res.headers.get('location'), next);
  });

  it.each(HOSTILE_NEXT)('keeps /login?next=%j on this site for a signed-in visitor', async (next) => {
    const res = await fetch(`${stack.app.url}/login?next=${encodeURIComponent(next)}`, { headers: { cookie: user.cookie }, redirect: 'manual' });
    expect(res.status).toBe(302);
    expectSameOrigin(res.headers.get('location'), next);
  });

  it.each(HOSTILE_NEXT)('keeps the sign-in return address %j on this site', async (next) => {
    const res = await fetch(`${stack.app.url}/auth/login?next=${encodeURIComponent(next)}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    const cookie = res.headers.getSetCookie().find((line) => line.startsWith(`${SIGNIN_COOKIE}=`))!;
    const saved = openSignInState(cookie.split(';')[0]!.split('=')[1], stack.app.ctx.secrets.sessionSecret, stack.app.ctx.clock.now());
    expectSameOrigin(saved!.next, next);
  });

  it.each(HOSTILE_NEXT)('sends an admin form back to an admin page only, whatever returnTo=%j says', async (returnTo) => {
    const res = await fetch(`${stack.app.url}/api/admin/users/${user.user.id}/balance`, {
      method: 'POST',
      headers: { cookie: admin.cookie, origin: stack.app.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ delta: 'not a number', reason: 'проверка', returnTo }),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    const location = res.headers.get('location');
    expectSameOrigin(location, returnTo);
    expect(location).toMatch(/^\/admin\/users\/[^/]+\?error=/);
  });

  it('still returns to a path of our own', async () => {
    const lang = await fetch(`${stack.app.url}/lang?to=en&next=${encodeURIComponent('/billing?x=1')}`, { redirect: 'manual' });
    expect(lang.headers.get('location')).toBe('/billing?x=1');
  });
});

describe('JSON input', () => {
  it('never answers with an unfilled placeholder, whatever the body', async () => {
    await uploadPhoto(stack.app.url, user.cookie); // so the body is what gets checked
    for (const body of ['[1,2,3]', '"text"', '42', 'null', '{"prompt":{"a":1}}', '{"mode":[1]}']) {
      const res = await apiFetch(stack.app.url, '/api/generate', { cookie: user.cookie, body, headers: { 'content-type': 'application/json' } });
      expect(res.status, body).toBe(400);
      const answer = (await res.json()) as { error: string };
      expect(answer.error, body).not.toMatch(/[{}]/);
    }
  });

  it('takes the duration as a number only', async () => {
    const res = await apiFetch(stack.app.url, '/api/generate', { cookie: user.cookie, json: { prompt: 'Кофе на столе', duration: '6', mode: 'prompt' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'DURATION_INVALID', field: 'duration' });
  });

  it('drops control characters and bidi overrides from a prompt before checking and storing it', async () => {
    const prompt = 'Кофе\u0000 на\u0007 столе\u001b[31m\u202e — крупно\r\nи медленно\tвращаясь';
    const res = await apiFetch(stack.app.url, '/api/generate', { cookie: user.cookie, json: { prompt, duration: 6, mode: 'prompt' } });
    expect(res.status).toBe(200);
    const { generationId } = (await res.json()) as { generationId: string };
    const stored = await stack.app.ctx.db.value<string>('SELECT prompt FROM generations WHERE id = ?', [generationId]);
    expect(stored).toBe('Кофе на столе[31m — крупно\nи медленно\tвращаясь');
    // Only invisible characters: nothing is left to describe a scene.
    const empty = await apiFetch(stack.app.url, '/api/generate', { cookie: user.cookie, json: { prompt: 'a\u0000\u0000\u202e\u2066b', duration: 6, mode: 'prompt' } });
    expect(await empty.json()).toMatchObject({ code: 'PROMPT_TOO_SHORT' });
  });

  it('composes decomposed letters (NFC) before counting', async () => {
    const decomposed = 'и\u0306'.repeat(1000); // «й» typed as и + combining breve: 2000 code units, 1000 letters
    const res = await apiFetch(stack.app.url, '/api/generate', { cookie: user.cookie, json: { prompt: decomposed, duration: 6, mode: 'prompt' } });
    expect(res.status).toBe(200);
    const { generationId } = (await res.json()) as { generationId: string };
    expect(await stack.app.ctx.db.value('SELECT prompt FROM generations WHERE id = ?', [generationId])).toBe('й'.repeat(1000));
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer for the same body and refuses another body with 422', async () => {
    // Its own seller: the others here have used up their generate allowance for the minute.
    const user = await createSignedInUser(stack.app.ctx, { balance: 20 });
    await uploadPhoto(stack.app.url, user.cookie);
    const headers = { 'idempotency-key': 'click-0001-abcdef' };
    const first = await apiFetch(stack.app.url, '/api/generate', { cookie: user.cookie, headers, json: { prompt: 'Чайник на плите', duration: 6, mode: 'prompt' } });
    expect(first.status).toBe(200);
    const again = await apiFetch(stack.app.url, '/api/generate', { cookie: user.cookie, headers, json: { prompt: 'Чайник на плите', duration: 6, mode: 'prompt' } });
    expect((await again.json()).generationId).toBe((await first.json()).generationId);
    const balance = await stack.app.ctx.db.value('SELECT generation_balance FROM users WHERE id = ?', [user.user.id]);
    const other = await apiFetch(stack.app.url, '/api/generate', { cookie: user.cookie, headers, json: { prompt: 'Чайник на плите', duration: 10, mode: 'prompt' } });
    expect(other.status).toBe(422);
    expect(await other.json()).toMatchObject({ success: false, code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await stack.app.ctx.db.value('SELECT generation_balance FROM users WHERE id = ?', [user.user.id])).toBe(balance);
  });

  it('does not answer a repeat in another format or focus with the first video', async () => {
    const user = await createSignedInUser(stack.app.ctx, { balance: 20 });
    await uploadPhoto(stack.app.url, user.cookie);
    const headers = { 'idempotency-key': 'click-0002-format' };
    const body = { prompt: 'Чайник на плите', duration: 6, mode: 'prompt', format: '3:4', focus: { x: 0.4, y: 0.5 } };
    const first = await apiFetch(stack.app.url, '/api/generate', { cookie: user.cookie, headers, json: body });
    expect(first.status).toBe(200);
    const again = await apiFetch(stack.app.url, '/api/generate', { cookie: user.cookie, headers, json: body });
    expect((await again.json()).generationId).toBe((await first.json()).generationId);
    const balance = await stack.app.ctx.db.value('SELECT generation_balance FROM users WHERE id = ?', [user.user.id]);
    expect(balance).toBe(19);
    for (const other of [{ ...body, format: '9:16' }, { ...body, focus: { x: 0.6, y: 0.5 } }]) {
      const res = await apiFetch(stack.app.url, '/api/generate', { cookie: user.cookie, headers, json: other });
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({ success: false, code: 'IDEMPOTENCY_KEY_REUSED' });
    }
    expect(await stack.app.ctx.db.value('SELECT generation_balance FROM users WHERE id = ?', [user.user.id])).toBe(balance);
  });
});

describe('admin one-time keys', () => {
  it('scopes a key to one action on one target: the same key on another user acts there too', async () => {
    const a = await createSignedInUser(stack.app.ctx, { email: 'a@example.ru' });
    const b = await createSignedInUser(stack.app.ctx, { email: 'b@example.ru' });
    const adjust = (target: string) =>
      apiFetch(stack.app.url, `/api/admin/users/${target}/balance`, {
        cookie: admin.cookie,
        headers: { 'idempotency-key': 'same-key-123456' },
        json: { delta: 5, reason: 'компенсация' },
      });
    expect((await adjust(a.user.id)).status).toBe(200);
    expect((await adjust(a.user.id)).status).toBe(200); // a resent request: replayed, not applied twice
    expect((await adjust(b.user.id)).status).toBe(200);
    const balanceOf = (id: string) => stack.app.ctx.db.value('SELECT generation_balance FROM users WHERE id = ?', [id]);
    expect(await balanceOf(a.user.id)).toBe(a.user.balance + 5);
    expect(await balanceOf(b.user.id)).toBe(b.user.balance + 5);
  });
});
