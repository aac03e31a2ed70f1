import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { startApp } from '../helpers/app.ts';
import { PRODUCTION_ENV } from '../helpers/env.ts';
import { startSandbox } from '../../sandbox/index.ts';
import { apiFetch } from '../helpers/http.ts';
import { CookieJar, signInThroughSandbox, walkSignIn } from '../helpers/signin.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { openSignInState, sealSignInState } from '../../src/lib/auth/signin-state.ts';
import { setUserDisabled } from '../../src/lib/auth/users.ts';
import { subjectForEmail } from '../../sandbox/oidc/emulator.ts';

const DAY = 24 * 60 * 60 * 1000;


function setCookie(res: Response, name: string): string | undefined {
  return res.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));
}

async function me(stack: TestStack, cookie: string) {
  return apiFetch(stack.app.url, '/api/me', { cookie });
}

describe('sign-in through the sandbox OIDC provider', () => {
  let stack: TestStack;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    stack = await startStack({ clock, env: { ADMIN_EMAILS: 'Boss@Example.ru' } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  const fault = (body: Record<string, unknown>) =>
    fetch(`${stack.sandbox.url}/_sandbox/oidc/faults`, { method: 'POST', body: JSON.stringify(body) });
  const countUsers = (email: string) =>
    stack.app.ctx.db.value<number>('SELECT COUNT(*) FROM users WHERE email = ?', [email]);
  const errorOf = (res: Response) => new URL(res.headers.get('location')!, stack.app.url).searchParams.get('error');

  it('signs a new user in: PKCE + nonce sent, session cookie set, back to `next`, trial credits granted', async () => {
    const steps = await walkSignIn(stack, 'anna@example.ru', { next: '/app/history?x=1' });
    const authorize = steps.authorizeUrl.searchParams;
    expect(steps.authorizeUrl.href.startsWith(`${stack.sandbox.url}/oidc/authorize`)).toBe(true);
    expect(authorize.get('redirect_uri')).toBe(`${stack.app.url}/auth/callback`);
    expect(authorize.get('code_challenge_method')).toBe('S256');
    expect(authorize.get('scope')).toBe('openid email profile');
    expect(authorize.get('nonce')).toBeTruthy();
    const signinCookie = setCookie(steps.login, 'beem_signin')!;
    expect(signinCookie).toMatch(/HttpOnly/i);
    expect(signinCookie).toMatch(/SameSite=Lax/i);
    expect(signinCookie).toMatch(/Max-Age=600/i);
    expect(signinCookie).toMatch(/Path=\/auth/i);
    expect(signinCookie).not.toMatch(/Secure/i);
    expect(signinCookie).not.toContain(authorize.get('state')!);

    expect(steps.callback.status).toBe(303);
    expect(steps.callback.headers.get('location')).toBe('/app/history?x=1');
    const session = setCookie(steps.callback, 'beem_session')!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    expect(session).toMatch(/Path=\//i);
    expect(session).toMatch(/Max-Age=604800/i);
    expect(session).not.toMatch(/Secure/i);
    // The one-time sign-in cookie is cleared on the way back.
    expect(setCookie(steps.callback, 'beem_signin')).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);

    const res = await me(stack, steps.jar.header());
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: expect.stringMatching(/^usr_/),
      email: 'anna@example.ru',
      name: 'anna',
      picture: expect.stringContaining('/oidc/avatar/'),
      role: 'user',
      plan: 'free',
      balance: 3,
      used: 0,
    });
    const row = await stack.app.ctx.db.get('SELECT auth_provider, auth_subject, consentAt FROM users WHERE email = ?', ['anna@example.ru']) as Record<string, unknown>;
    expect(row).toEqual({ auth_provider: 'oidc', auth_subject: subjectForEmail('anna@example.ru'), consentAt: clock.now() });
  });

  it('keeps one user and one trial grant over repeated sign-ins, with a new session each time', async () => {
    const first = await signInThroughSandbox(stack, 'repeat@example.ru');
    const second = await signInThroughSandbox(stack, 'repeat@example.ru');
    expect(second).not.toBe(first);
    expect(await countUsers('repeat@example.ru')).toBe(1);
    const userId = ((await (await me(stack, second)).json()) as { id: string }).id;
    const grants = await stack.app.ctx.db.value("SELECT COUNT(*) FROM credit_ledger WHERE userId = ? AND kind = 'trial'", [userId]);
    expect(grants).toBe(1);
    expect((await me(stack, first)).status).toBe(200);
    expect(((await (await me(stack, second)).json()) as { balance: number }).balance).toBe(3);
  });

  it('ends the previous session of the same browser when it signs in again', async () => {
    const jar = new CookieJar();
    await walkSignIn(stack, 'switch@example.ru', { jar });
    const before = jar.header();
    await walkSignIn(stack, 'switch-other@example.ru', { jar });
    expect((await me(stack, before)).status).toBe(401);
    expect(((await (await me(stack, jar.header())).json()) as { email: string }).email).toBe('switch-other@example.ru');
  });

  it('refuses a callback whose state is not the one this browser started with', async () => {
    const tampered = await walkSignIn(stack, 'state@example.ru', { tamper: (url) => url.searchParams.set('state', 'forged') });
    expect(tampered.callback.status).toBe(303);
    expect(errorOf(tampered.callback)).toBe('SIGNIN_FAILED');
    expect(tampered.jar.values.has('beem_session')).toBe(false);

    await fault({ kind: 'wrong_state' });
    const providerSide = await walkSignIn(stack, 'state@example.ru');
    expect(errorOf(providerSide.callback)).toBe('SIGNIN_FAILED');
    expect(await countUsers('state@example.ru')).toBe(0);
  });

  it('refuses a PKCE verifier that does not match the challenge, and a missing or stale sign-in cookie', async () => {
    const secret = stack.app.ctx.secrets.sessionSecret;
    const forged = await walkSignIn(stack, 'pkce@example.ru', {
      tamper: () => {
        // Same state and nonce, another verifier: only the provider's PKCE check can notice.
        const saved = openSignInState(forgedJar.values.get('beem_signin'), secret, clock.now())!;
        forgedJar.values.set('beem_signin', sealSignInState({ ...saved, codeVerifier: 'x'.repeat(43) }, secret));
      },
      jar: (forgedJar = new CookieJar()),
    });
    expect(errorOf(forged.callback)).toBe('SIGNIN_FAILED');
    const tokenRequests = (
      (await (await fetch(`${stack.sandbox.url}/_sandbox/oidc/state`)).json()) as { tokenRequests: Array<{ outcome: string }> }
    ).tokenRequests;
    expect(tokenRequests.at(-1)?.outcome).toBe('invalid_grant');

    const noCookie = await walkSignIn(stack, 'pkce@example.ru', { tamper: () => forgedJar.values.clear(), jar: (forgedJar = new CookieJar()) });
    expect(errorOf(noCookie.callback)).toBe('SIGNIN_EXPIRED');

    const slow = await walkSignIn(stack, 'pkce@example.ru', { tamper: () => clock.advance(11 * 60 * 1000) });
    expect(errorOf(slow.callback)).toBe('SIGNIN_EXPIRED');
    expect(await countUsers('pkce@example.ru')).toBe(0);
  });
  let forgedJar = new CookieJar();

  it('refuses an email the provider has not verified, and creates no user', async () => {
    await fault({ kind: 'unverified_email' });
    const steps = await walkSignIn(stack, 'unverified@example.ru');
    expect(errorOf(steps.callback)).toBe('SIGNIN_EMAIL_UNVERIFIED');
    expect(await countUsers('unverified@example.ru')).toBe(0);
    const page = await fetch(`${stack.app.url}${steps.callback.headers.get('location')}`);
    expect(await page.text()).toContain('Ваша почта не подтверждена');
  });

  it('follows an email change at the provider for the same account (same sub)', async () => {
    const cookie = await signInThroughSandbox(stack, 'old-address@example.ru');
    const { id } = (await (await me(stack, cookie)).json()) as { id: string };
    await fault({ kind: 'email_changed', email: 'new-address@example.ru' });
    const again = await signInThroughSandbox(stack, 'old-address@example.ru');
    expect(await (await me(stack, again)).json()).toMatchObject({ id, email: 'new-address@example.ru' });
    expect(await countUsers('old-address@example.ru')).toBe(0);
  });

  it('says what happened when the person cancels or the provider is down', async () => {
    await fault({ kind: 'access_denied' });
    expect(errorOf((await walkSignIn(stack, 'cancel@example.ru')).callback)).toBe('SIGNIN_CANCELLED');
    await fault({ kind: 'token_500' });
    expect(errorOf((await walkSignIn(stack, 'cancel@example.ru')).callback)).toBe('SIGNIN_PROVIDER_UNAVAILABLE');
    await fault({ kind: 'expired_code' });
    expect(errorOf((await walkSignIn(stack, 'cancel@example.ru')).callback)).toBe('SIGNIN_FAILED');
    const page = await fetch(`${stack.app.url}/login?error=SIGNIN_PROVIDER_UNAVAILABLE`);
    expect(await page.text()).toContain('Сервис входа сейчас не отвечает');
  });

  it('returns only to relative paths after sign-in', async () => {
    for (const next of ['https://evil.example/x', '//evil.example', '/\\evil.example', '/auth/logout']) {
      const steps = await walkSignIn(stack, 'next@example.ru', { next });
      expect(steps.callback.headers.get('location')).toBe('/app');
    }
  });

  it('logs out: the old cookie stops working at once', async () => {
    const cookie = await signInThroughSandbox(stack, 'logout@example.ru');
    const out = await apiFetch(stack.app.url, '/auth/logout', { method: 'POST', cookie });
    expect(out.status).toBe(303);
    expect(setCookie(out, 'beem_session')).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
    const res = await me(stack, cookie);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ success: false, code: 'UNAUTHORIZED', error: 'Войдите в аккаунт, чтобы продолжить.' });
  });

  it('extends a session used after half its life and refuses it once expired', async () => {
    const cookie = await signInThroughSandbox(stack, 'clock@example.ru');
    clock.advance(4 * DAY);
    const extended = await me(stack, cookie);
    expect(extended.status).toBe(200);
    expect(setCookie(extended, 'beem_session')).toMatch(/Max-Age=604800/);
    clock.advance(6 * DAY);
    expect((await me(stack, cookie)).status).toBe(200);
    clock.advance(7 * DAY + 1);
    const expired = await me(stack, cookie);
    expect(expired.status).toBe(401);
    expect(await stack.app.ctx.db.value('SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.userId WHERE u.email = ?', ['clock@example.ru'])).toBe(0);
  });

  it('sends the cookie again when a file request (node route) extends the session', async () => {
    const cookie = await signInThroughSandbox(stack, 'files@example.ru');
    clock.advance(4 * DAY);
    // No photo yet: 404, but the session was checked and extended on the way.
    const photo = await apiFetch(stack.app.url, '/api/uploads/current', { cookie });
    expect(photo.status).toBe(404);
    expect(setCookie(photo, 'beem_session')).toMatch(/Max-Age=604800; HttpOnly; SameSite=Lax$/);
    const again = await apiFetch(stack.app.url, '/api/uploads/current', { cookie });
    expect(setCookie(again, 'beem_session')).toBeUndefined();
  });

  it('refuses a disabled user: every session deleted at once, clear 403 / page, sign-in refused', async () => {
    const apiCookie = await signInThroughSandbox(stack, 'blocked@example.ru');
    const pageCookie = await signInThroughSandbox(stack, 'blocked@example.ru');
    const sessionsOf = () =>
      stack.app.ctx.db.value('SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.userId WHERE u.email = ?', ['blocked@example.ru']);
    expect(await sessionsOf()).toBe(2);
    // As an admin tool would do it without touching sessions: the middleware still cuts them all.
    await stack.app.ctx.db.run('UPDATE users SET disabled = 1 WHERE email = ?', ['blocked@example.ru']);
    const page = await fetch(`${stack.app.url}/app`, { headers: { cookie: pageCookie }, redirect: 'manual' });
    expect(page.headers.get('location')).toBe('/login?error=ACCOUNT_DISABLED');
    expect(setCookie(page, 'beem_session')).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
    expect(await sessionsOf()).toBe(0);
    expect((await me(stack, apiCookie)).status).toBe(401);

    const steps = await walkSignIn(stack, 'blocked@example.ru');
    expect(errorOf(steps.callback)).toBe('ACCOUNT_DISABLED');
    expect(steps.jar.values.has('beem_session')).toBe(false);
    expect(await sessionsOf()).toBe(0);
    const refusal = await fetch(`${stack.app.url}${steps.callback.headers.get('location')}`);
    expect(refusal.status).toBe(403);
    expect(await refusal.text()).toContain('Ваш аккаунт заблокирован');
  });

  it('answers a blocked user’s API call with 403, and blocking through setUserDisabled signs them out everywhere', async () => {
    const cookie = await signInThroughSandbox(stack, 'blocked-api@example.ru');
    const other = await signInThroughSandbox(stack, 'blocked-api@example.ru');
    await stack.app.ctx.db.run('UPDATE users SET disabled = 1 WHERE email = ?', ['blocked-api@example.ru']);
    const api = await me(stack, cookie);
    expect(api.status).toBe(403);
    expect(await api.json()).toMatchObject({ code: 'ACCOUNT_DISABLED', error: 'Ваш аккаунт заблокирован. Если это ошибка, напишите в поддержку.' });
    expect((await me(stack, other)).status).toBe(401);

    const again = await signInThroughSandbox(stack, 'blocked-page@example.ru');
    const { id } = (await (await me(stack, again)).json()) as { id: string };
    expect(await setUserDisabled(stack.app.ctx.db, id, true, clock.now())).toBe(true);
    expect(await stack.app.ctx.db.value('SELECT COUNT(*) FROM sessions WHERE userId = ?', [id])).toBe(0);
    expect((await me(stack, again)).status).toBe(401);
    expect(await setUserDisabled(stack.app.ctx.db, id, true, clock.now())).toBe(false);
    expect(await setUserDisabled(stack.app.ctx.db, id, false, clock.now())).toBe(true);
    expect((await me(stack, await signInThroughSandbox(stack, 'blocked-page@example.ru'))).status).toBe(200);
  });

  it('removes sessions whose cookie never came back', async () => {
    const cookie = await signInThroughSandbox(stack, 'forgotten@example.ru');
    const count = () => stack.app.ctx.db.value('SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.userId WHERE u.email = ?', ['forgotten@example.ru']);
    expect(await count()).toBe(1);
    clock.advance(8 * DAY);
    const sweeper = stack.app.ctx.tasks.find((task) => task.name === 'sweep-sessions')!;
    sweeper.start();
    await sweeper.stop();
    expect(await count()).toBe(0);
    expect((await me(stack, cookie)).status).toBe(401);
  });

  it('shows the signed-in header (balance, sign-out) on the 404 page', async () => {
    const cookie = await signInThroughSandbox(stack, 'header@example.ru');
    const page = await fetch(`${stack.app.url}/no-such-page`, { headers: { cookie } });
    expect(page.status).toBe(404);
    const html = await page.text();
    // The header says "Баланс: 3 кредита" (the number is also a data attribute for scripts).
    expect(html).toMatch(/Баланс: <\/span>\s*<span data-balance-text data-balance="3">\s*3 кредита/);
    expect(html).toContain('href="/billing"');
    expect(html).toContain('action="/auth/logout"');
    expect(html).toContain('Страница не найдена');
  });

  it('gives the admin role to emails listed in ADMIN_EMAILS', async () => {
    const cookie = await signInThroughSandbox(stack, 'boss@example.ru');
    expect(await (await me(stack, cookie)).json()).toMatchObject({ role: 'admin' });
  });

  it('sends signed-out visitors of private pages to /login and back', async () => {
    const res = await fetch(`${stack.app.url}/app?tab=1`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login?next=%2Fapp%3Ftab%3D1');
    const login = await fetch(`${stack.app.url}/login?next=%2Fapp`);
    const html = await login.text();
    expect(html).toContain('<html lang="ru"');
    expect(html).toContain('action="/auth/login"');
    expect(html).toContain('name="next" value="/app"');
    expect(html).toContain('href="/legal/privacy"');
    expect(html).toContain('href="/legal/offer"');
    const signedIn = await signInThroughSandbox(stack, 'already@example.ru');
    const again = await fetch(`${stack.app.url}/login?next=%2Fbilling`, { headers: { cookie: signedIn }, redirect: 'manual' });
    expect(again.headers.get('location')).toBe('/billing');
  });

  it('starts sign-in from the page form (POST) as well as from a link (GET)', async () => {
    const res = await fetch(`${stack.app.url}/auth/login`, {
      method: 'POST',
      headers: { origin: stack.app.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ next: '/billing' }),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toContain('/oidc/authorize?');
    const saved = openSignInState(
      setCookie(res, 'beem_signin')!.split(';')[0]!.split('=')[1],
      stack.app.ctx.secrets.sessionSecret,
      clock.now(),
    );
    expect(saved?.next).toBe('/billing');
  });

  it('switches the interface to English by link and by API', async () => {
    const link = await fetch(`${stack.app.url}/lang?to=en&next=%2Flogin`, { redirect: 'manual' });
    expect(link.headers.get('location')).toBe('/login');
    const lang = setCookie(link, 'beem_lang')!.split(';')[0]!;
    const page = await (await fetch(`${stack.app.url}/login`, { headers: { cookie: lang } })).text();
    expect(page).toContain('<html lang="en"');
    expect(page).toContain('Sign in with');
    const api = await apiFetch(stack.app.url, '/api/locale', { json: { locale: 'en' } });
    expect(setCookie(api, 'beem_lang')).toMatch(/^beem_lang=en/);
    const bad = await apiFetch(stack.app.url, '/api/locale', { json: { locale: 'de' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'INVALID_LOCALE', field: 'locale' });
  });
});

describe('sign-in with Yandex ID (against the sandbox Yandex-like endpoints)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ env: { OAUTH_PROVIDER: 'yandex' } });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('uses PKCE without nonce and takes the identity from the userinfo call', async () => {
    const steps = await walkSignIn(stack, 'ivan@yandex.ru');
    expect(steps.authorizeUrl.searchParams.get('scope')).toBe('login:info login:email login:avatar');
    expect(steps.authorizeUrl.searchParams.get('nonce')).toBeNull();
    expect(steps.authorizeUrl.searchParams.get('code_challenge')).toBeTruthy();
    expect(steps.callback.headers.get('location')).toBe('/app');
    const body = (await (await me(stack, steps.jar.header())).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ email: 'ivan@yandex.ru', name: 'ivan', balance: 3 });
    expect(body.picture).toMatch(/^https:\/\/avatars\.yandex\.net\/get-yapic\/sbx\/.+\/islands-200$/);
    const row = await stack.app.ctx.db.get('SELECT auth_provider, auth_subject FROM users WHERE email = ?', ['ivan@yandex.ru']) as {
      auth_provider: string;
      auth_subject: string;
    };
    expect(row.auth_provider).toBe('yandex');
    expect(row.auth_subject).toMatch(/^\d+$/);
    const login = await (await fetch(`${stack.app.url}/login`)).text();
    expect(login).toContain('Войти через Яндекс ID');
  });
});

describe('production mode', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // In production nothing defaults to the sandbox: the issuer is named explicitly.
    const sandbox = await startSandbox();
    const app = await startApp({ env: { ...PRODUCTION_ENV, OAUTH_ISSUER: `${sandbox.url}/oidc`, OAUTH_ALLOW_HTTP: 'true' } });
    sandbox.setAppUrl(app.url);
    stack = {
      app,
      sandbox,
      async stop() {
        await app.stop();
        await sandbox.close();
      },
    };
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('marks the session and sign-in cookies Secure', async () => {
    const steps = await walkSignIn(stack, 'prod@example.ru');
    expect(setCookie(steps.login, 'beem_signin')).toMatch(/;\s*Secure/i);
    expect(setCookie(steps.callback, 'beem_session')).toMatch(/;\s*Secure/i);
    expect(setCookie(steps.callback, 'beem_session')).toMatch(/HttpOnly/i);
    expect(steps.callback.headers.get('location')).toBe('/app');
  });
});
