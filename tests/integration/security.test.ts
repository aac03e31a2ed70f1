import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { startApp, type TestApp } from '../helpers/app.ts';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { signInThroughSandbox } from '../helpers/signin.ts';
import { PRODUCTION_ENV } from '../helpers/env.ts';

const EVIL = 'https://evil.example';
const SHOP = 'https://shop.example';
const PAYMENT_CHECKS_PER_MIN = 2;

/** The route itself answered (the request got past every limit): its status and error code. */
async function expectAnswered(response: Promise<Response>, status: number, code: string): Promise<void> {
  const res = await response;
  expect(res.status).toBe(status);
  expect(await res.json()).toMatchObject({ success: false, code });
}

async function expectRateLimited(response: Promise<Response>): Promise<void> {
  const res = await response;
  expect(res.status).toBe(429);
  expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  expect(await res.json()).toMatchObject({ success: false, code: 'RATE_LIMITED' });
}

describe('request security', () => {
  let stack: TestStack;
  let url: string;

  beforeAll(async () => {
    stack = await startStack({
      env: {
        CORS_ORIGINS: `${SHOP}/`,
        TRUST_PROXY: 'true',
        RATE_LIMIT_GENERATE_PER_MIN: '2',
        RATE_LIMIT_PAYMENTS_PER_MIN: '1',
        RATE_LIMIT_PAYMENT_CHECKS_PER_MIN: String(PAYMENT_CHECKS_PER_MIN),
        RATE_LIMIT_SIGNIN_PER_MIN: '3',
      },
    });
    url = stack.app.url;
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('refuses state-changing requests from another site, JSON included, with a Russian 403', async () => {
    const { cookie } = await createSignedInUser(stack.app.ctx);
    const evil = await apiFetch(url, '/api/locale', { json: { locale: 'en' }, cookie, sameOrigin: false, headers: { origin: EVIL } });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('set-cookie')).toBeNull();
    expect(await evil.json()).toEqual({
      success: false,
      code: 'CROSS_SITE_REQUEST',
      error: 'Запрос отклонён из соображений безопасности. Откройте Beem заново и повторите действие.',
    });
    const logout = await fetch(`${url}/auth/logout`, {
      method: 'POST',
      headers: { origin: EVIL, cookie, 'content-type': 'application/x-www-form-urlencoded' },
      redirect: 'manual',
    });
    expect(logout.status).toBe(403);
    expect((await apiFetch(url, '/api/me', { cookie })).status).toBe(200);

    const noOrigin = await apiFetch(url, '/api/locale', { json: { locale: 'en' }, sameOrigin: false });
    expect(noOrigin.status).toBe(403);
    const nullOrigin = await apiFetch(url, '/api/locale', { json: { locale: 'en' }, sameOrigin: false, headers: { origin: 'null' } });
    expect(nullOrigin.status).toBe(403);
    const crossSite = await apiFetch(url, '/api/locale', { json: { locale: 'en' }, sameOrigin: false, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    const fetchMetadata = await apiFetch(url, '/api/locale', { json: { locale: 'en' }, sameOrigin: false, headers: { 'sec-fetch-site': 'same-origin' } });
    expect(fetchMetadata.status).toBe(200);
    const sameSite = await apiFetch(url, '/api/locale', { json: { locale: 'en' } });
    expect(sameSite.status).toBe(200);
    const english = await apiFetch(url, '/api/locale', { json: {}, sameOrigin: false, headers: { origin: EVIL, cookie: 'beem_lang=en' } });
    expect(((await english.json()) as { error: string }).error).toBe(
      'The request was refused for security reasons. Open Beem again and repeat the action.',
    );
  });

  it('lets the two provider webhooks through whatever their Origin, to their own answers', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: EVIL }, body: JSON.stringify(body) });
    const challenge = await post('/minimax_callback', { challenge: 'x' });
    expect(challenge.status).toBe(200);
    expect(await challenge.json()).toEqual({ challenge: 'x' });
    const notification = await post('/api/payments/yookassa/webhook', { type: 'notification', event: 'payment.succeeded', object: { id: 'nobody-knows-it' } });
    expect(notification.status).toBe(200);
    expect(await notification.json()).toEqual({ success: true, outcome: 'unknown_payment' });
  });

  it('answers CORS preflights and requests only for CORS_ORIGINS, with credentials', async () => {
    const preflight = await fetch(`${url}/api/generate`, {
      method: 'OPTIONS',
      headers: { origin: SHOP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'Content-Type, X-Evil' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type');

    const refused = await fetch(`${url}/api/generate`, {
      method: 'OPTIONS',
      headers: { origin: EVIL, 'access-control-request-method': 'POST' },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();

    const { cookie } = await createSignedInUser(stack.app.ctx);
    const me = await fetch(`${url}/api/me`, { headers: { origin: SHOP, cookie } });
    expect(me.status).toBe(200);
    expect(me.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(me.headers.get('vary')).toContain('Origin');
    const post = await apiFetch(url, '/api/locale', { json: { locale: 'ru' }, sameOrigin: false, headers: { origin: SHOP } });
    expect(post.status).toBe(200);
    const other = await fetch(`${url}/api/me`, { headers: { origin: EVIL, cookie } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('limits requests per user with 429, Retry-After and a JSON error; other users are not affected', async () => {
    const a = await createSignedInUser(stack.app.ctx);
    const b = await createSignedInUser(stack.app.ctx);
    const generate = (cookie: string) => apiFetch(url, '/api/generate', { json: { prompt: 'x', duration: 6, mode: 'prompt' }, cookie });
    // Without a photo the route itself answers NO_IMAGE: the request got past the limit to it.
    for (let i = 0; i < 2; i += 1) await expectAnswered(generate(a.cookie), 400, 'NO_IMAGE');
    const limited = await generate(a.cookie);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await limited.json()).toEqual({
      success: false,
      code: 'RATE_LIMITED',
      error: `Слишком много запросов. Подождите ${retryAfter} сек и попробуйте снова.`,
    });
    await expectAnswered(generate(b.cookie), 400, 'NO_IMAGE');
  });

  it('limits payment creation and payment checks per user, never the YooKassa webhook', async () => {
    const buyer = await createSignedInUser(stack.app.ctx);
    const create = () => apiFetch(url, '/api/payments/yookassa/create', { json: { plan: 'basic' }, cookie: buyer.cookie });
    const created = await create();
    expect(created.status).toBe(200);
    const { paymentId } = (await created.json()) as { paymentId: string };
    await expectRateLimited(create());

    const check = (cookie: string) => apiFetch(url, `/api/payments/yookassa/check?paymentId=${paymentId}`, { cookie });
    for (let i = 0; i < PAYMENT_CHECKS_PER_MIN; i += 1) {
      const res = await check(buyer.cookie);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ paymentId, status: 'pending', state: 'pending' });
    }
    await expectRateLimited(check(buyer.cookie));
    // Another user is counted apart: the route answers them (the payment is not theirs).
    await expectAnswered(check((await createSignedInUser(stack.app.ctx)).cookie), 403, 'USER_MISMATCH');

    for (let i = 0; i < 3; i += 1) {
      const hook = await fetch(`${url}/api/payments/yookassa/webhook`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(hook.status).toBe(200);
      expect(await hook.json()).toEqual({ success: true, outcome: 'ignored' });
    }
  });

  it('limits sign-in attempts per client IP (from the proxy headers when TRUST_PROXY=true)', async () => {
    const login = (ip: string) => fetch(`${url}/auth/login`, { redirect: 'manual', headers: { 'x-forwarded-for': `6.6.6.6, ${ip}` } });
    for (let i = 0; i < 3; i += 1) expect((await login('203.0.113.7')).status).toBe(303);
    const limited = await login('203.0.113.7');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await login('203.0.113.8')).status).toBe(303);
  });

  it('sends security headers, and one fixed CSP that allows our script files and nothing inline', async () => {
    const res = await fetch(`${url}/login`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("object-src 'none'");
    // Profile pictures: any https host, and the (plain-HTTP, loopback) sandbox provider.
    expect(csp).toContain(`img-src 'self' data: blob: https: ${stack.sandbox.url}`);
    expect(csp).toContain("media-src 'self' blob:");
    expect(csp).toMatch(new RegExp(`form-action 'self'[^;]* ${stack.sandbox.url.replace(/[.]/g, '\\.')}`));
    expect(csp.split('; ')).toContain("script-src 'self'");

    const api = await fetch(`${url}/api/me`);
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('content-security-policy')).toBeNull();
  });

  it('serves every page without an executable inline script, under the same CSP', async () => {
    // The CSP allows no inline script: one that crept into a page would silently not run.
    const { cookie } = await createSignedInUser(stack.app.ctx, { role: 'admin' });
    const pages: Array<[string, string | undefined]> = [
      ['/', undefined],
      ['/login', undefined],
      ['/legal/offer', undefined],
      ['/no/such/page', undefined],
      ['/app', cookie],
      ['/billing', cookie],
      ['/admin', cookie],
      ['/admin/users', cookie],
      ['/admin/generations', cookie],
      ['/admin/payments', cookie],
      ['/admin/alerts', cookie],
      ['/admin/audit', cookie],
    ];
    const policies = new Set<string>();
    for (const [path, pageCookie] of pages) {
      const res = await fetch(`${url}${path}`, { headers: pageCookie ? { cookie: pageCookie } : {}, redirect: 'manual' });
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
      const html = await res.text();
      expect(executableInlineScripts(html), path).toEqual([]);
      expect(html, path).toMatch(/<script type="module" src="\/_astro\/[^"]+\.js"><\/script>/);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      const csp = res.headers.get('content-security-policy');
      expect(csp?.split('; '), path).toContain("script-src 'self'");
      policies.add(csp!);
    }
    expect([...policies]).toHaveLength(1);
  });

  it('shows a friendly 404 page, and JSON 404 under /api/', async () => {
    const page = await fetch(`${url}/no/such/page`);
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('Страница не найдена');
    const api = await fetch(`${url}/api/no-such-endpoint`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
  });

  it('answers /api/me with 401 JSON when signed out, and the header shows the balance when signed in', async () => {
    const res = await fetch(`${url}/api/me`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    const cookie = await signInThroughSandbox(stack, 'header@example.ru');
    const login = await fetch(`${url}/login`, { headers: { cookie }, redirect: 'manual' });
    expect(login.status).toBe(302);
  });
});

describe('behind an HTTPS proxy in production', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({
      env: { ...PRODUCTION_ENV, OAUTH_ISSUER: 'https://sso.example', PUBLIC_BASE_URL: 'https://beem.example', TRUST_PROXY: 'true' },
    });
  });
  afterAll(async () => {
    await app.stop();
  });

  it('redirects plain-HTTP visits to the https address, and leaves health checks alone', async () => {
    const res = await fetch(`${app.url}/login?next=%2Fapp`, { headers: { 'x-forwarded-proto': 'http' }, redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('https://beem.example/login?next=%2Fapp');
    const post = await fetch(`${app.url}/auth/logout`, { method: 'POST', headers: { 'x-forwarded-proto': 'http' }, redirect: 'manual' });
    expect(post.status).toBe(308);
    expect((await fetch(`${app.url}/healthz`, { headers: { 'x-forwarded-proto': 'http' } })).status).toBe(200);
    const https = await fetch(`${app.url}/login`, { headers: { 'x-forwarded-proto': 'https', origin: 'https://beem.example' } });
    expect(https.status).toBe(200);
    expect(https.headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
    expect(https.headers.get('content-security-policy')).toContain('https://sso.example');
  });

  it('trusts the public origin and the host the request was sent to, nothing else', async () => {
    const post = (origin: string) => apiFetch(app.url, '/api/locale', { json: { locale: 'en' }, sameOrigin: false, headers: { origin } });
    expect((await post('https://beem.example')).status).toBe(200);
    expect((await post(app.url)).status).toBe(200);
    expect((await post('http://localhost')).status).toBe(403);
    expect((await post('https://evil.example')).status).toBe(403);
  });
});

/** Inline `<script>` bodies a browser would run (not files, not JSON data blocks). */
function executableInlineScripts(html: string): string[] {
  const found: string[] = [];
  for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    const attributes = match[1] ?? '';
    const body = match[2] ?? '';
    if (/\bsrc\s*=/i.test(attributes) || body.trim().length === 0) continue;
    if (/\btype\s*=\s*["']?application\/(ld\+)?json["'\s]/i.test(`${attributes} `)) continue;
    found.push(body.slice(0, 120));
  }
  return found;
}
