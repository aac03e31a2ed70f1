import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import { FaultQueue, readFormOrJson, sendHtml, sendJson, type Emulator, type SandboxRequest } from '../core.ts';
import { SANDBOX_CREDENTIALS } from '../defaults.ts';
import type { SandboxContext } from '../index.ts';
import { renderError, renderSignInForm } from './pages.ts';

/**
 * An OpenID Connect provider as Google or Keycloak speak it (reference/oauth-login.md §2, §8):
 * discovery, authorize, token (client_secret_basic or _post, PKCE S256, single-use codes),
 * userinfo, JWKS and RS256 id_tokens. `/yandex/info` answers like login.yandex.ru so the
 * Yandex code path runs too.
 *
 * Authorize as real providers do it: `redirect_uri` must equal one the client registered
 * (Beem's `${appUrl}/auth/callback`, plus any added), anything else gets the provider's own
 * error page and no redirect; the sign-in form is shown unless the browser already has a
 * session at the provider (a cookie set when the form is completed), `login_hint` only fills
 * the form in, and `prompt=none` without a session answers `error=login_required`.
 *
 * Control actions (`POST /_sandbox/oidc/faults`):
 *   { action: "sign_in", email, name? }      a provider session for tests that skip the form:
 *                                            answers `{ cookie }` to send with /authorize
 *   { action: "register_redirect_uri", uri, clientId? }
 *
 * Faults (`POST /_sandbox/oidc/faults`, `{ kind, count? }`), each for the next sign-ins:
 *   unverified_email           id_token/userinfo say `email_verified: false`
 *   email_changed {email}      same `sub` as the email typed, but this new `email`
 *   expired_code               the code is already expired at the token endpoint
 *   wrong_state                the redirect carries a state the client never sent
 *   access_denied              authorize answers `error=access_denied` (as the Cancel button)
 *   token_500                  the token endpoint answers HTTP 500
 */

export type OidcFault =
  | { kind: 'unverified_email' }
  | { kind: 'email_changed'; email: string }
  | { kind: 'expired_code' }
  | { kind: 'wrong_state' }
  | { kind: 'access_denied' }
  | { kind: 'token_500' };

const FAULT_KINDS = ['unverified_email', 'email_changed', 'expired_code', 'wrong_state', 'access_denied', 'token_500'];

export interface OidcClient {
  clientId: string;
  clientSecret: string;
  /** Exact redirect URIs registered for the client (the default client also has the app's own). */
  redirectUris: string[];
}

export interface OidcEmulatorOptions {
  /** Redirect URIs the default client has besides `${appUrl}/auth/callback` (the demo's public address). */
  redirectUris?: string[];
}

/** The provider's session cookie: set when the form is completed, or by the `sign_in` action. */
export const OIDC_SESSION_COOKIE = 'sbx_oidc_session';

interface Person {
  sub: string;
  email: string;
  emailVerified: boolean;
  name: string;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string | null;
  nonce: string | null;
  scope: string;
  person: Person;
  expiresAt: number;
  used: boolean;
}

interface IssuedToken {
  clientId: string;
  scope: string;
  person: Person;
  expiresAt: number;
}

interface TokenRequestRecord {
  clientAuth: 'client_secret_basic' | 'client_secret_post' | 'none';
  grantType: string;
  outcome: string;
}

export const CODE_TTL_MS = 60_000;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ACCESS_TOKEN_TTL_S = 3600;
const ID_TOKEN_TTL_S = 3600;

/** Stable per email, like a real provider's account id: same email → same subject. */
export function subjectForEmail(email: string): string {
  return `sbx-${createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 20)}`;
}

/** Yandex ids are numeric strings, stable per account like `sub`. */
export function yandexIdForSubject(sub: string): string {
  const hex = createHash('sha256').update(`yandex:${sub}`).digest('hex').slice(0, 12);
  return String(BigInt(`0x${hex}`));
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { Location: location, 'Cache-Control': 'no-store' });
  res.end();
}

export class OidcEmulator implements Emulator {
  readonly prefix = '/oidc';
  readonly faults = new FaultQueue<OidcFault>();
  readonly clients = new Map<string, OidcClient>();
  private readonly privateKey: KeyObject;
  private readonly publicJwk: Record<string, unknown>;
  private readonly keyId = `sbx-${randomBytes(4).toString('hex')}`;
  private codes = new Map<string, IssuedCode>();
  private tokens = new Map<string, IssuedToken>();
  private authorizeRequests: Array<Record<string, string>> = [];
  private tokenRequests: TokenRequestRecord[] = [];
  private signIns: Array<{ sub: string; email: string }> = [];
  private sessions = new Map<string, { email: string; name: string | undefined }>();

  constructor(
    private readonly context: SandboxContext,
    private readonly options: OidcEmulatorOptions = {},
  ) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    this.publicJwk = { ...publicKey.export({ format: 'jwk' }), kid: this.keyId, use: 'sig', alg: 'RS256' };
    this.registerDefaultClient();
  }

  get issuer(): string {
    return `${this.context.baseUrl}${this.prefix}`;
  }

  registerClient(client: OidcClient): void {
    this.clients.set(client.clientId, client);
  }

  async handle(r: SandboxRequest): Promise<boolean> {
    const { method, path } = r;
    if (method === 'GET' && path === '/.well-known/openid-configuration') return this.discovery(r);
    if (method === 'GET' && path === '/jwks') return this.jwks(r);
    if ((method === 'GET' || method === 'POST') && path === '/authorize') return this.authorize(r);
    if (method === 'POST' && path === '/token') return this.token(r);
    if ((method === 'GET' || method === 'POST') && path === '/userinfo') return this.userinfo(r);
    if (method === 'GET' && path === '/yandex/info') return this.yandexInfo(r);
    if (method === 'GET' && path.startsWith('/avatar/')) return this.avatar(r);
    return false;
  }

  state() {
    return {
      issuer: this.issuer,
      authorizeRequests: this.authorizeRequests,
      tokenRequests: this.tokenRequests,
      signIns: this.signIns,
      liveCodes: [...this.codes.values()].filter((c) => !c.used).length,
      pendingFaults: this.faults.pending(),
    };
  }

  injectFault(body: unknown): void | { cookie: string } {
    const input = (body ?? {}) as { kind?: unknown; count?: unknown; email?: unknown; action?: unknown; name?: unknown; uri?: unknown; clientId?: unknown };
    if (input.action === 'sign_in') {
      if (typeof input.email !== 'string' || !EMAIL.test(input.email.trim())) throw new Error('sign_in needs an email');
      return { cookie: this.startSession(input.email, typeof input.name === 'string' ? input.name : undefined) };
    }
    if (input.action === 'register_redirect_uri') {
      const client = this.clients.get(typeof input.clientId === 'string' ? input.clientId : SANDBOX_CREDENTIALS.oauthClientId);
      if (!client || typeof input.uri !== 'string' || !URL.canParse(input.uri)) throw new Error('register_redirect_uri needs a uri (and a known clientId)');
      client.redirectUris.push(input.uri);
      return;
    }
    if (input.action !== undefined) throw new Error('action must be sign_in or register_redirect_uri');
    if (typeof input.kind !== 'string' || !FAULT_KINDS.includes(input.kind)) {
      throw new Error(`kind must be one of ${FAULT_KINDS.join(', ')}`);
    }
    const count = typeof input.count === 'number' && input.count > 0 ? input.count : 1;
    if (input.kind === 'email_changed') {
      if (typeof input.email !== 'string' || !input.email.includes('@')) throw new Error('email_changed needs an email');
      this.faults.add({ kind: 'email_changed', email: input.email }, count);
      return;
    }
    this.faults.add({ kind: input.kind } as OidcFault, count);
  }

  reset(): void {
    this.faults.clear();
    this.codes.clear();
    this.tokens.clear();
    this.authorizeRequests = [];
    this.tokenRequests = [];
    this.signIns = [];
    this.sessions.clear();
    this.clients.clear();
    this.registerDefaultClient();
  }

  /** A session at the provider for `email`; the value of the `Cookie` header that carries it. */
  startSession(email: string, name?: string): string {
    const token = randomBytes(18).toString('base64url');
    this.sessions.set(token, { email: email.trim().toLowerCase(), name });
    return `${OIDC_SESSION_COOKIE}=${token}`;
  }

  private registerDefaultClient(): void {
    this.registerClient({
      clientId: SANDBOX_CREDENTIALS.oauthClientId,
      clientSecret: SANDBOX_CREDENTIALS.oauthClientSecret,
      redirectUris: [...(this.options.redirectUris ?? [])],
    });
  }

  /** Exact match only, as real providers compare (no prefix, no trailing slash, no other port). */
  private redirectAllowed(client: OidcClient, redirectUri: string): boolean {
    const own = client.clientId === SANDBOX_CREDENTIALS.oauthClientId ? [`${this.context.appUrl}/auth/callback`] : [];
    return [...own, ...client.redirectUris].includes(redirectUri);
  }

  private session(r: SandboxRequest): { email: string; name: string | undefined } | null {
    const cookies = (r.req.headers.cookie ?? '').split(';').map((c) => c.trim());
    const token = cookies.find((c) => c.startsWith(`${OIDC_SESSION_COOKIE}=`))?.slice(OIDC_SESSION_COOKIE.length + 1);
    return token ? (this.sessions.get(token) ?? null) : null;
  }

  private discovery({ res }: SandboxRequest): true {
    const issuer = this.issuer;
    sendJson(res, 200, {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code'],
      claims_supported: ['sub', 'email', 'email_verified', 'name', 'picture', 'nonce', 'iss', 'aud', 'iat', 'exp'],
    });
    return true;
  }

  private jwks({ res }: SandboxRequest): true {
    sendJson(res, 200, { keys: [this.publicJwk] });
    return true;
  }

  /**
   * GET shows the form (pre-filled from `login_hint`), or completes at once for a browser with
   * a provider session; POST is the form's answer. A bad client_id or redirect_uri is shown as
   * the provider's error page: a provider never redirects to an address it has not verified.
   */
  private async authorize(r: SandboxRequest): Promise<true> {
    const params: Record<string, string> =
      r.method === 'POST'
        ? (Object.fromEntries(
            Object.entries(await readFormOrJson(r.req)).map(([k, v]) => [k, String(v)]),
          ) as Record<string, string>)
        : Object.fromEntries(r.url.searchParams);
    if (r.method === 'GET') this.authorizeRequests.push(params);
    const client = params.client_id ? this.clients.get(params.client_id) : undefined;
    if (!client) {
      sendHtml(r.res, 400, renderError('Ошибка 400: invalid_client', 'Приложение не зарегистрировано у этого провайдера.'));
      return true;
    }
    const redirectUri = params.redirect_uri ?? '';
    if (!this.redirectAllowed(client, redirectUri)) {
      sendHtml(
        r.res,
        400,
        renderError(
          'Ошибка 400: redirect_uri_mismatch',
          `Адрес возврата ${redirectUri || '(пусто)'} не зарегистрирован для приложения ${client.clientId}. Вход невозможен: сообщите об этом владельцу сайта.`,
        ),
      );
      return true;
    }
    const back = (query: Record<string, string>) => {
      const target = new URL(redirectUri);
      for (const [key, value] of Object.entries(query)) target.searchParams.set(key, value);
      if (params.state !== undefined) {
        const wrong = this.faults.take((f) => f.kind === 'wrong_state');
        target.searchParams.set('state', wrong ? `${params.state}-tampered` : params.state);
      }
      redirect(r.res, target.toString());
    };
    if (params.response_type !== 'code') {
      back({ error: 'unsupported_response_type', error_description: 'only response_type=code is supported' });
      return true;
    }
    if (params.code_challenge && params.code_challenge_method !== 'S256') {
      back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
      return true;
    }
    if (this.faults.take((f) => f.kind === 'access_denied') || params.action === 'deny') {
      back({ error: 'access_denied', error_description: 'The user cancelled the sign-in' });
      return true;
    }

    const prompts = (params.prompt ?? '').split(' ').filter(Boolean);
    const session = r.method === 'GET' && !prompts.includes('login') && !prompts.includes('select_account') ? this.session(r) : null;
    if (r.method === 'GET' && !session) {
      if (prompts.includes('none')) {
        back({ error: 'login_required', error_description: 'The user is not signed in at the provider' });
        return true;
      }
      // login_hint only fills the form in: the person still confirms (or types another address).
      const form = { ...params, email: params.login_hint ?? '' };
      sendHtml(r.res, 200, renderSignInForm({ action: `${this.prefix}/authorize`, params: form }));
      return true;
    }
    const email = (session?.email ?? params.email)?.trim().toLowerCase();
    if (!email || !EMAIL.test(email)) {
      sendHtml(r.res, 400, renderSignInForm({ action: `${this.prefix}/authorize`, params, error: 'Введите адрес почты.' }));
      return true;
    }
    if (!session) r.res.setHeader('Set-Cookie', `${this.startSession(email, params.name)}; Path=${this.prefix}; HttpOnly; SameSite=Lax`);
    const person = this.personFor(email, session ? session.name : params.name);
    const code = randomBytes(24).toString('base64url');
    const expired = this.faults.take((f) => f.kind === 'expired_code');
    this.codes.set(code, {
      clientId: client.clientId,
      redirectUri,
      codeChallenge: params.code_challenge || null,
      nonce: params.nonce || null,
      scope: params.scope ?? '',
      person,
      expiresAt: expired ? Date.now() - 1 : Date.now() + CODE_TTL_MS,
      used: false,
    });
    this.signIns.push({ sub: person.sub, email: person.email });
    back({ code });
    return true;
  }

  private personFor(email: string, name: string | undefined): Person {
    const changed = this.faults.take((f) => f.kind === 'email_changed');
    const unverified = this.faults.take((f) => f.kind === 'unverified_email');
    return {
      sub: subjectForEmail(email),
      email: changed?.kind === 'email_changed' ? changed.email.toLowerCase() : email,
      emailVerified: !unverified,
      name: name?.trim() || email.split('@')[0]!,
    };
  }

  /** Client authentication as RFC 6749 §2.3.1 allows: HTTP Basic or body fields, not both. */
  private authenticateClient(
    header: string | undefined,
    body: Record<string, unknown>,
  ): { client: OidcClient; method: TokenRequestRecord['clientAuth'] } | null {
    let id: string | undefined;
    let secret: string | undefined;
    let method: TokenRequestRecord['clientAuth'] = 'none';
    if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return null;
      id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      method = 'client_secret_basic';
      if (body.client_secret !== undefined) return null;
    } else if (typeof body.client_id === 'string' && typeof body.client_secret === 'string') {
      id = body.client_id;
      secret = body.client_secret;
      method = 'client_secret_post';
    }
    const client = id ? this.clients.get(id) : undefined;
    if (!client || secret === undefined || !safeEqual(secret, client.clientSecret)) return null;
    return { client, method };
  }

  private async token(r: SandboxRequest): Promise<true> {
    const body = await readFormOrJson(r.req);
    const record: TokenRequestRecord = { clientAuth: 'none', grantType: String(body.grant_type ?? ''), outcome: '' };
    this.tokenRequests.push(record);
    const fail = (status: number, error: string, description: string) => {
      record.outcome = error;
      const headers: Record<string, string> = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
      if (status === 401) headers['WWW-Authenticate'] = 'Basic realm="sandbox-oidc"';
      sendJson(r.res, status, { error, error_description: description }, headers);
      return true as const;
    };
    if (this.faults.take((f) => f.kind === 'token_500')) {
      record.outcome = 'http_500';
      sendJson(r.res, 500, { error: 'server_error', error_description: 'sandbox fault: token endpoint is down' });
      return true;
    }
    const auth = this.authenticateClient(r.req.headers.authorization, body);
    if (!auth) return fail(401, 'invalid_client', 'client authentication failed');
    record.clientAuth = auth.method;
    if (body.grant_type !== 'authorization_code') {
      return fail(400, 'unsupported_grant_type', 'only authorization_code is supported');
    }
    const code = typeof body.code === 'string' ? this.codes.get(body.code) : undefined;
    if (!code || code.clientId !== auth.client.clientId) return fail(400, 'invalid_grant', 'unknown authorization code');
    if (code.used) {
      // RFC 6749 §4.1.2: a reused code is refused (and tokens issued from it should be revoked).
      for (const [token, issued] of this.tokens) if (issued.person.sub === code.person.sub) this.tokens.delete(token);
      return fail(400, 'invalid_grant', 'authorization code was already used');
    }
    code.used = true;
    if (code.expiresAt <= Date.now()) return fail(400, 'invalid_grant', 'authorization code expired');
    if (body.redirect_uri !== code.redirectUri) return fail(400, 'invalid_grant', 'redirect_uri does not match');
    if (code.codeChallenge) {
      const verifier = typeof body.code_verifier === 'string' ? body.code_verifier : '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!verifier || !safeEqual(challenge, code.codeChallenge)) {
        return fail(400, 'invalid_grant', 'PKCE verification failed');
      }
    } else if (body.code_verifier !== undefined) {
      return fail(400, 'invalid_grant', 'code_verifier sent but no code_challenge was given');
    }

    const accessToken = randomBytes(24).toString('base64url');
    this.tokens.set(accessToken, {
      clientId: code.clientId,
      scope: code.scope,
      person: code.person,
      expiresAt: Date.now() + ACCESS_TOKEN_TTL_S * 1000,
    });
    const response: Record<string, unknown> = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ACCESS_TOKEN_TTL_S,
      scope: code.scope,
    };
    if (code.scope.split(' ').includes('openid')) response.id_token = await this.idToken(code);
    record.outcome = 'ok';
    sendJson(r.res, 200, response, { 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    return true;
  }

  private async idToken(code: IssuedCode): Promise<string> {
    const claims: Record<string, unknown> = { ...this.profileClaims(code.person, code.scope) };
    if (code.nonce) claims.nonce = code.nonce;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: this.keyId, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(code.clientId)
      .setSubject(code.person.sub)
      .setIssuedAt()
      .setExpirationTime(`${ID_TOKEN_TTL_S}s`)
      .sign(this.privateKey);
  }

  private profileClaims(person: Person, scope: string): Record<string, unknown> {
    const scopes = scope.split(' ');
    const claims: Record<string, unknown> = { sub: person.sub };
    if (scopes.includes('email')) {
      claims.email = person.email;
      claims.email_verified = person.emailVerified;
    }
    if (scopes.includes('profile')) {
      claims.name = person.name;
      claims.picture = `${this.context.baseUrl}${this.prefix}/avatar/${person.sub}.svg`;
    }
    return claims;
  }

  private bearer(header: string | undefined, scheme: 'Bearer' | 'OAuth'): IssuedToken | null {
    const prefix = `${scheme} `;
    if (!header || !header.toLowerCase().startsWith(prefix.toLowerCase())) return null;
    const issued = this.tokens.get(header.slice(prefix.length).trim());
    if (!issued || issued.expiresAt <= Date.now()) return null;
    return issued;
  }

  private userinfo(r: SandboxRequest): true {
    const issued = this.bearer(r.req.headers.authorization, 'Bearer');
    if (!issued) {
      sendJson(r.res, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      return true;
    }
    sendJson(r.res, 200, this.profileClaims(issued.person, issued.scope));
    return true;
  }

  /** A coloured circle, so pages showing the profile picture have something to show. */
  private avatar({ res, path }: SandboxRequest): true {
    const hue = parseInt(createHash('sha256').update(path).digest('hex').slice(0, 2), 16) * 1.4;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><circle cx="48" cy="48" r="48" fill="hsl(${Math.round(hue)},60%,55%)"/></svg>`;
    res.writeHead(200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'max-age=3600' });
    res.end(svg);
    return true;
  }

  /** login.yandex.ru/info as reference/oauth-login.md §3 describes it. */
  private yandexInfo(r: SandboxRequest): true {
    const issued = this.bearer(r.req.headers.authorization, 'OAuth');
    if (!issued) {
      sendJson(r.res, 401, { error: 'invalid_token', error_description: 'OAuth token is missing or invalid' });
      return true;
    }
    const { person } = issued;
    const [first, ...rest] = person.name.split(' ');
    sendJson(r.res, 200, {
      id: yandexIdForSubject(person.sub),
      login: person.email.split('@')[0],
      client_id: issued.clientId,
      psuid: `1.${person.sub}`,
      default_email: person.email,
      emails: [person.email],
      display_name: person.name,
      real_name: person.name,
      first_name: first ?? '',
      last_name: rest.join(' '),
      sex: null,
      default_avatar_id: `sbx/${person.sub}`,
      is_avatar_empty: false,
    });
    return true;
  }
}
