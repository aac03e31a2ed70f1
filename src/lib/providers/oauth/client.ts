import * as oidc from 'openid-client';
import type { Config } from '../../config.ts';
import { isOAuthError, OAuthError } from './errors.ts';
import type { Logger } from '../../logger.ts';
import { fetchYandexProfile } from './yandex.ts';

/**
 * The sign-in provider, through `openid-client` v6 (OpenID-certified; it checks state,
 * PKCE, the id_token's signature, issuer, audience, expiry and nonce).
 *   google — discovery of accounts.google.com
 *   oidc   — discovery of OAUTH_ISSUER (Keycloak, corporate SSO, the sandbox)
 *   yandex — Yandex ID has no discovery: its endpoints from config, identity from its userinfo
 * The provider's configuration is fetched on first use and kept; a failed fetch is retried
 * on the next sign-in rather than remembered.
 */

export type OAuthSettings = Config['auth'];

/** A person as the provider vouches for them; the email is always one the provider verified. */
export interface OAuthProfile {
  provider: OAuthSettings['provider'];
  subject: string;
  email: string;
  name: string | null;
  picture: string | null;
}

export interface AuthorizationRequest {
  url: URL;
  state: string;
  codeVerifier: string;
  nonce: string | null;
}

export interface AuthorizationChecks {
  state: string;
  codeVerifier: string;
  nonce: string | null;
}

const SCOPES: Record<OAuthSettings['provider'], string> = {
  google: 'openid email profile',
  oidc: 'openid email profile',
  yandex: 'login:info login:email login:avatar',
};

/** Provider problems on our side of the wire (down, slow, 5xx) versus a refused attempt. */
const providerUnavailable = (cause: unknown) => new OAuthError('SIGNIN_PROVIDER_UNAVAILABLE', { cause });
const signInFailed = (cause: unknown) => new OAuthError('SIGNIN_FAILED', { cause });

export class OAuthClient {
  private configuration: Promise<oidc.Configuration> | null = null;
  /** Learnt from discovery: an issuer may authorize on another host than its own. */
  private authorizationOrigin: string | null = null;

  constructor(
    private readonly settings: OAuthSettings,
    private readonly clientSecret: string,
    private readonly log: Logger,
  ) {}

  get provider(): OAuthSettings['provider'] {
    return this.settings.provider;
  }

  /** Origins of the provider's pages: where the sign-in form leads (CSP `form-action`). */
  providerOrigins(): string[] {
    switch (this.settings.provider) {
      case 'google':
        return ['https://accounts.google.com'];
      case 'yandex':
        // oauth.yandex.ru sends people who are not signed in on to passport.yandex.ru.
        return [new URL(this.settings.yandex.authorizeUrl).origin, 'https://passport.yandex.ru', 'https://oauth.yandex.com'];
      case 'oidc': {
        const origins = this.settings.issuer ? [new URL(this.settings.issuer).origin] : [];
        if (this.authorizationOrigin && !origins.includes(this.authorizationOrigin)) origins.push(this.authorizationOrigin);
        return origins;
      }
    }
  }

  async createAuthorizationRequest(): Promise<AuthorizationRequest> {
    const config = await this.getConfiguration();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = this.settings.provider === 'yandex' ? null : oidc.randomNonce();
    const params: Record<string, string> = {
      redirect_uri: this.settings.redirectUri,
      scope: SCOPES[this.settings.provider],
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    };
    if (nonce) params.nonce = nonce;
    if (this.settings.provider === 'google') params.prompt = 'select_account';
    return { url: oidc.buildAuthorizationUrl(config, params), state, codeVerifier, nonce };
  }

  /**
   * Finishes the code flow for the provider's redirect (its query string), with the checks
   * kept since the start. The redirect URI sent to the token endpoint is the configured one,
   * never one built from request headers.
   */
  async completeAuthorization(callbackQuery: URLSearchParams, checks: AuthorizationChecks): Promise<OAuthProfile> {
    const error = callbackQuery.get('error');
    if (error === 'access_denied') throw new OAuthError('SIGNIN_CANCELLED');
    const config = await this.getConfiguration();
    const currentUrl = new URL(this.settings.redirectUri);
    currentUrl.search = callbackQuery.toString();

    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: checks.codeVerifier,
        expectedState: checks.state,
        ...(checks.nonce ? { expectedNonce: checks.nonce } : { idTokenExpected: false }),
      });
    } catch (err) {
      throw this.classify(err, 'token exchange failed');
    }

    if (this.settings.provider === 'yandex') {
      try {
        return await fetchYandexProfile(this.settings.yandex.userinfoUrl, tokens.access_token, this.settings.requestTimeoutMs);
      } catch (err) {
        throw this.classify(err, 'yandex userinfo failed');
      }
    }

    let claims: Record<string, unknown> = { ...tokens.claims() };
    if (claims.email === undefined) {
      // Some issuers put the email only into userinfo.
      try {
        claims = { ...claims, ...(await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub))) };
      } catch (err) {
        throw this.classify(err, 'userinfo failed');
      }
    }
    if (typeof claims.email !== 'string' || !claims.email.includes('@')) {
      throw new OAuthError('SIGNIN_EMAIL_MISSING');
    }
    // Only an address the provider itself confirmed may identify or link an account.
    if (claims.email_verified !== true) throw new OAuthError('SIGNIN_EMAIL_UNVERIFIED');
    return {
      provider: this.settings.provider,
      subject: String(claims.sub),
      email: claims.email.toLowerCase(),
      name: typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim() : null,
      picture: typeof claims.picture === 'string' && /^https?:\/\//.test(claims.picture) ? claims.picture : null,
    };
  }

  /**
   * Fetches the provider's discovery document ahead of the first sign-in, so the sign-in
   * page's CSP `form-action` already names an authorization host that differs from the
   * issuer. A failure is logged and retried at the first sign-in.
   */
  async warmUp(): Promise<void> {
    await this.getConfiguration().catch(() => undefined);
  }

  private getConfiguration(): Promise<oidc.Configuration> {
    if (!this.configuration) {
      const loading = this.loadConfiguration();
      this.configuration = loading;
      loading.catch((err: unknown) => {
        if (this.configuration === loading) this.configuration = null;
        this.log.error({ err, provider: this.settings.provider }, 'sign-in provider configuration failed');
      });
    }
    return this.configuration.catch((err: unknown) => {
      throw providerUnavailable(err);
    });
  }

  private async loadConfiguration(): Promise<oidc.Configuration> {
    const { provider, issuer, clientId, allowHttp, yandex, requestTimeoutMs } = this.settings;
    const clientAuth = oidc.ClientSecretPost(this.clientSecret);
    const execute = allowHttp ? [oidc.allowInsecureRequests] : [];
    const timeout = Math.ceil(requestTimeoutMs / 1000);
    if (provider === 'yandex') {
      const config = new oidc.Configuration(
        { issuer, authorization_endpoint: yandex.authorizeUrl, token_endpoint: yandex.tokenUrl },
        clientId,
        undefined,
        clientAuth,
      );
      config.timeout = timeout;
      for (const fn of execute) fn(config);
      return config;
    }
    if (!allowHttp && new URL(issuer).protocol !== 'https:') {
      throw new Error(`sign-in issuer ${issuer} is not https; set OAUTH_ALLOW_HTTP=true only for a loopback test provider`);
    }
    const config = await oidc.discovery(new URL(issuer), clientId, undefined, clientAuth, { execute, timeout });
    const authorizationEndpoint = config.serverMetadata().authorization_endpoint;
    if (authorizationEndpoint) this.authorizationOrigin = new URL(authorizationEndpoint).origin;
    return config;
  }

  /** Maps what openid-client throws to our codes; the detail goes to the log only. */
  private classify(err: unknown, what: string): OAuthError {
    if (isOAuthError(err)) return err;
    const e = (err ?? {}) as { name?: string; status?: unknown; error?: string; code?: string; cause?: unknown };
    // openid-client reports an unexpected HTTP answer with the Response as `cause`.
    const cause = (e.cause ?? {}) as { name?: string; status?: unknown };
    const status = typeof e.status === 'number' ? e.status : typeof cause.status === 'number' ? cause.status : null;
    const networkNames = ['TypeError', 'AbortError', 'TimeoutError'];
    if ((status !== null && status >= 500) || networkNames.includes(e.name ?? '') || networkNames.includes(cause.name ?? '')) {
      this.log.warn({ err, provider: this.settings.provider, status }, `sign-in: ${what} (provider unavailable)`);
      return providerUnavailable(err);
    }
    if (e?.name === 'AuthorizationResponseError' && e.error === 'access_denied') {
      return new OAuthError('SIGNIN_CANCELLED', { cause: err });
    }
    this.log.warn({ err, provider: this.settings.provider }, `sign-in: ${what}`);
    return signInFailed(err);
  }
}
