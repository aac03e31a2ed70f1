import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../../sandbox/index.ts';
import { SANDBOX_CREDENTIALS } from '../../../sandbox/defaults.ts';
import { subjectForEmail, type OidcEmulator } from '../../../sandbox/oidc/emulator.ts';
import { authorizeSignedIn, providerSession } from '../../../sandbox/oidc/test-support.ts';

const REDIRECT_URI = 'http://127.0.0.1:3999/auth/callback';
const { oauthClientId: CLIENT_ID, oauthClientSecret: CLIENT_SECRET } = SANDBOX_CREDENTIALS;

describe('sandbox OIDC provider', () => {
  let sandbox: Sandbox;
  let issuer: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    // The app whose callback the default client registered.
    sandbox.setAppUrl('http://127.0.0.1:3999');
    issuer = `${sandbox.url}/oidc`;
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    sandbox.emulator<OidcEmulator>('oidc').reset();
  });

  const discover = (auth?: client.ClientAuth) =>
    client.discovery(new URL(issuer), CLIENT_ID, undefined, auth ?? client.ClientSecretPost(CLIENT_SECRET), {
      execute: [client.allowInsecureRequests],
    });

  const fault = (body: Record<string, unknown>) =>
    fetch(`${sandbox.url}/_sandbox/oidc/faults`, { method: 'POST', body: JSON.stringify(body) });

  /** Runs the front channel for a browser signed in at the provider and returns what the redirect brought back. */
  async function authorize(config: client.Configuration, email: string, extra: Record<string, string> = {}) {
    const flow = await authorizeSignedIn(sandbox.url, config, { redirectUri: REDIRECT_URI, email, extra });
    expect(flow.response.status).toBe(302);
    return { ...flow, callback: flow.callback! };
  }

  it('signs in with the real openid-client: discovery, PKCE, RS256 id_token, userinfo', async () => {
    const config = await discover();
    expect(config.serverMetadata().issuer).toBe(issuer);
    const flow = await authorize(config, 'Anna@Example.ru');
    expect(flow.callback.origin + flow.callback.pathname).toBe(REDIRECT_URI);
    const tokens = await client.authorizationCodeGrant(config, flow.callback, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: issuer,
      aud: CLIENT_ID,
      sub: subjectForEmail('anna@example.ru'),
      email: 'anna@example.ru',
      email_verified: true,
      name: 'anna',
      nonce: flow.nonce,
    });
    expect(claims.picture).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/oidc\/avatar\//);
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.email).toBe('anna@example.ru');
    const state = (await (await fetch(`${sandbox.url}/_sandbox/oidc/state`)).json()) as {
      tokenRequests: Array<{ clientAuth: string; outcome: string }>;
    };
    expect(state.tokenRequests).toEqual([{ clientAuth: 'client_secret_post', grantType: 'authorization_code', outcome: 'ok' }]);
  });

  it('accepts client_secret_basic and refuses a wrong secret with 401 invalid_client', async () => {
    const config = await discover(client.ClientSecretBasic(CLIENT_SECRET));
    const flow = await authorize(config, 'basic@example.ru');
    const tokens = await client.authorizationCodeGrant(config, flow.callback, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
    });
    expect(tokens.claims()!.email).toBe('basic@example.ru');

    const wrong = await client.discovery(new URL(issuer), CLIENT_ID, undefined, client.ClientSecretBasic('nope'), {
      execute: [client.allowInsecureRequests],
    });
    const second = await authorize(wrong, 'basic@example.ru');
    const err = await client
      .authorizationCodeGrant(wrong, second.callback, { pkceCodeVerifier: second.verifier, expectedState: second.state, expectedNonce: second.nonce })
      .catch((e: unknown) => e);
    // RFC 6749 §5.2: a 401 with a WWW-Authenticate challenge, which openid-client surfaces as such.
    expect(err).toMatchObject({ status: 401 });
    expect(await (err as { response: Response }).response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses a wrong PKCE verifier, a reused code and an expired code with invalid_grant', async () => {
    const config = await discover();
    const flow = await authorize(config, 'pkce@example.ru');
    const wrongVerifier = await client
      .authorizationCodeGrant(config, flow.callback, {
        pkceCodeVerifier: client.randomPKCECodeVerifier(),
        expectedState: flow.state,
        expectedNonce: flow.nonce,
      })
      .catch((e: unknown) => e);
    expect(wrongVerifier).toMatchObject({ error: 'invalid_grant', error_description: 'PKCE verification failed' });

    const fresh = await authorize(config, 'pkce@example.ru');
    const checks = { pkceCodeVerifier: fresh.verifier, expectedState: fresh.state, expectedNonce: fresh.nonce };
    await client.authorizationCodeGrant(config, fresh.callback, checks);
    const reused = await client.authorizationCodeGrant(config, fresh.callback, checks).catch((e: unknown) => e);
    expect(reused).toMatchObject({ error: 'invalid_grant', error_description: 'authorization code was already used' });

    await fault({ kind: 'expired_code' });
    const late = await authorize(config, 'pkce@example.ru');
    const expired = await client
      .authorizationCodeGrant(config, late.callback, { pkceCodeVerifier: late.verifier, expectedState: late.state, expectedNonce: late.nonce })
      .catch((e: unknown) => e);
    expect(expired).toMatchObject({ error: 'invalid_grant', error_description: 'authorization code expired' });
  });

  it('never redirects to an unregistered client or a wrong redirect_uri', async () => {
    const emulator = sandbox.emulator<OidcEmulator>('oidc');
    emulator.registerClient({ clientId: 'strict', clientSecret: 's', redirectUris: ['https://beem.example/auth/callback'] });
    const cookie = await providerSession(sandbox.url, 'a@b.ru');
    const base = `${issuer}/authorize?response_type=code&state=x`;
    const unknown = await fetch(`${base}&client_id=other&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`, { redirect: 'manual', headers: { cookie } });
    expect(unknown.status).toBe(400);
    const mismatch = await fetch(`${base}&client_id=strict&redirect_uri=${encodeURIComponent('https://beem.example/auth/callback/')}`, {
      redirect: 'manual',
      headers: { cookie },
    });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.text()).toContain('redirect_uri_mismatch');
    const exact = await fetch(`${base}&client_id=strict&redirect_uri=${encodeURIComponent('https://beem.example/auth/callback')}`, {
      redirect: 'manual',
      headers: { cookie },
    });
    expect(exact.status).toBe(302);
    const wrongType = await fetch(`${base.replace('response_type=code', 'response_type=token')}&client_id=strict&redirect_uri=${encodeURIComponent('https://beem.example/auth/callback')}`, { redirect: 'manual', headers: { cookie } });
    expect(new URL(wrongType.headers.get('location')!).searchParams.get('error')).toBe('unsupported_response_type');
  });

  it('refuses any redirect_uri but the registered one exactly, on its own error page', async () => {
    const cookie = await providerSession(sandbox.url, 'victim@example.ru');
    for (const uri of ['https://evil.example/auth/callback', 'http://127.0.0.1:3998/auth/callback', `${REDIRECT_URI}?next=/x`, 'http://localhost:3999/auth/callback']) {
      const res = await fetch(`${issuer}/authorize?response_type=code&client_id=${CLIENT_ID}&state=s&redirect_uri=${encodeURIComponent(uri)}`, {
        redirect: 'manual',
        headers: { cookie },
      });
      expect(res.status, uri).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      const page = await res.text();
      expect(page).toContain('redirect_uri_mismatch');
      expect(page).not.toContain('name="email"');
    }
    const registered = await fetch(`${sandbox.url}/_sandbox/oidc/faults`, {
      method: 'POST',
      body: JSON.stringify({ action: 'register_redirect_uri', uri: 'http://localhost:3999/auth/callback' }),
    });
    expect(registered.status).toBe(200);
    const now = await fetch(`${issuer}/authorize?response_type=code&client_id=${CLIENT_ID}&state=s&redirect_uri=${encodeURIComponent('http://localhost:3999/auth/callback')}`, {
      redirect: 'manual',
      headers: { cookie },
    });
    expect(now.status).toBe(302);
  });

  it('only pre-fills the form from login_hint; without a session nothing completes by itself', async () => {
    const config = await discover();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid email', state: 'h', login_hint: 'hint@example.ru' });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/name="email" type="email"[^>]*value="hint@example\.ru"/);
    expect(sandbox.emulator<OidcEmulator>('oidc').state().signIns).toEqual([]);
  });

  it('answers prompt=none with login_required without a session, and with a code when there is one', async () => {
    const config = await discover();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid email', state: 'silent', prompt: 'none' });
    const anonymous = await fetch(url, { redirect: 'manual' });
    expect(anonymous.status).toBe(302);
    const back = new URL(anonymous.headers.get('location')!);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error: 'login_required', state: 'silent' });
    const known = await fetch(url, { redirect: 'manual', headers: { cookie: await providerSession(sandbox.url, 'known@example.ru') } });
    expect(new URL(known.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });

  it('keeps the person signed in at the provider after the form: the next sign-in skips it', async () => {
    const config = await discover();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid email', state: 'f1' });
    const approve = await fetch(`${issuer}/authorize`, {
      method: 'POST',
      body: new URLSearchParams({ ...Object.fromEntries(url.searchParams), email: 'again@example.ru', action: 'approve' }),
      redirect: 'manual',
    });
    const cookie = approve.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie).toMatch(/^sbx_oidc_session=/);
    const second = await fetch(url, { redirect: 'manual', headers: { cookie } });
    expect(second.status).toBe(302);
    const relogin = await fetch(`${url}&prompt=login`, { redirect: 'manual', headers: { cookie } });
    expect(relogin.status).toBe(200);
  });

  it('shows a sign-in form without login_hint; Войти completes it and Отмена answers access_denied', async () => {
    const config = await discover();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile',
      state: 'st-1',
      nonce: 'n-1',
    });
    const form = await fetch(url);
    const html = await form.text();
    expect(form.status).toBe(200);
    expect(html).toContain('name="email"');
    expect(html).toContain('value="deny"');
    const hidden = Object.fromEntries(url.searchParams);

    const approve = await fetch(`${issuer}/authorize`, {
      method: 'POST',
      body: new URLSearchParams({ ...hidden, email: 'form@example.ru', name: 'Мария Петрова', action: 'approve' }),
      redirect: 'manual',
    });
    const back = new URL(approve.headers.get('location')!);
    expect(back.searchParams.get('state')).toBe('st-1');
    const tokens = await client.authorizationCodeGrant(config, back, { expectedState: 'st-1', expectedNonce: 'n-1' });
    expect(tokens.claims()).toMatchObject({ email: 'form@example.ru', name: 'Мария Петрова' });

    const deny = await fetch(`${issuer}/authorize`, {
      method: 'POST',
      body: new URLSearchParams({ ...hidden, action: 'deny' }),
      redirect: 'manual',
    });
    const denied = new URL(deny.headers.get('location')!);
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('state')).toBe('st-1');
  });

  it('switches: unverified email, changed email with the same sub, wrong state, token endpoint 500', async () => {
    const config = await discover();
    const grant = async (email: string) => {
      const flow = await authorize(config, email);
      return client.authorizationCodeGrant(config, flow.callback, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
      });
    };
    await fault({ kind: 'unverified_email' });
    expect((await grant('u@example.ru')).claims()!.email_verified).toBe(false);
    expect((await grant('u@example.ru')).claims()!.email_verified).toBe(true);

    await fault({ kind: 'email_changed', email: 'new@example.ru' });
    expect((await grant('old@example.ru')).claims()).toMatchObject({ sub: subjectForEmail('old@example.ru'), email: 'new@example.ru' });

    await fault({ kind: 'wrong_state' });
    expect(await grant('s@example.ru').catch((e: unknown) => e)).toBeInstanceOf(Error);

    await fault({ kind: 'token_500' });
    const down = await grant('down@example.ru').catch((e: unknown) => e);
    expect(down).toBeInstanceOf(Error);
    expect((await fault({ kind: 'bogus' })).status).toBe(400);
  });

  it('answers like login.yandex.ru/info with an OAuth token and 401 without one', async () => {
    const config = await discover();
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'login:info login:email login:avatar',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: 'ya',
    });
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: await providerSession(sandbox.url, 'ivan@yandex.ru') } });
    const tokens = await client.authorizationCodeGrant(config, new URL(res.headers.get('location')!), {
      pkceCodeVerifier: verifier,
      expectedState: 'ya',
    });
    expect(tokens.id_token).toBeUndefined();
    const info = await fetch(`${issuer}/yandex/info?format=json`, { headers: { Authorization: `OAuth ${tokens.access_token}` } });
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({
      id: expect.stringMatching(/^\d+$/),
      default_email: 'ivan@yandex.ru',
      real_name: 'ivan',
      is_avatar_empty: false,
    });
    const bearer = await fetch(`${issuer}/yandex/info?format=json`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(bearer.status).toBe(401);
  });
});
