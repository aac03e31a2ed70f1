import type { Config } from '../config.ts';

/**
 * Request-security rules the middleware applies to every request (pure, so they are
 * tested without a server): cross-site request refusal, CORS, security headers and
 * the HTTPS redirect behind a proxy.
 */

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Provider webhooks carry no cookies and come from the providers' servers (no Origin);
 * each proves itself another way (MiniMax: re-query the task; YooKassa: IP allow-list
 * and a fetch-back of the payment).
 */
export const ORIGIN_CHECK_EXEMPT_PATHS = ['/minimax_callback', '/api/payments/yookassa/webhook'];

export function isStateChanging(method: string): boolean {
  return STATE_CHANGING.has(method.toUpperCase());
}

export function isOriginCheckExempt(pathname: string): boolean {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  return ORIGIN_CHECK_EXEMPT_PATHS.includes(path);
}

/** Our own origins: the public URL and CORS_ORIGINS. */
export function trustedOrigins(config: Config): Set<string> {
  return new Set([new URL(config.server.publicBaseUrl).origin, ...config.server.corsOrigins.map(normalizeOrigin)]);
}

function normalizeOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}

/**
 * A browser sends `Origin` with every POST (and `Sec-Fetch-Site` on modern engines).
 * Astro's own check covers form content types only; JSON needs this one. Trusted: our
 * public origin, CORS_ORIGINS, or an Origin naming the very host the request was sent to
 * (the `Host` header is set by the browser, so a page elsewhere cannot match it; this
 * keeps http://127.0.0.1 working when PUBLIC_BASE_URL says localhost). A request with
 * neither header is refused too: no browser page of ours sends one like that.
 */
export function isTrustedStateChange(headers: Headers, config: Config): boolean {
  const origin = headers.get('origin');
  if (origin && origin !== 'null') {
    if (trustedOrigins(config).has(origin)) return true;
    const host = headers.get('host');
    try {
      return host !== null && new URL(origin).host === host.toLowerCase();
    } catch {
      return false;
    }
  }
  return headers.get('sec-fetch-site') === 'same-origin';
}

export function isAllowedCorsOrigin(origin: string | null, config: Config): origin is string {
  return origin !== null && config.server.corsOrigins.map(normalizeOrigin).includes(origin);
}

/** Headers for an allowed cross-origin caller (cookies included, as the spec asks). */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Expose-Headers': 'Retry-After, X-Request-Id',
    Vary: 'Origin',
  };
}

const PREFLIGHT_ALLOWED_HEADERS = ['content-type', 'x-request-id', 'idempotency-key'];

export function preflightHeaders(origin: string, requestedHeaders: string | null): Record<string, string> {
  const asked = (requestedHeaders ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => PREFLIGHT_ALLOWED_HEADERS.includes(h));
  return {
    ...corsHeaders(origin),
    'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE',
    'Access-Control-Allow-Headers': [...new Set(['content-type', ...asked])].join(', '),
    'Access-Control-Max-Age': '600',
    Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  };
}

/** Headers for every response Astro makes (pages and APIs). */
export const BASE_SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'X-Frame-Options': 'DENY',
};

/** A year of HTTPS-only in production (browsers ignore it over plain HTTP, as in development). */
export const HSTS_VALUE = 'max-age=31536000; includeSubDomains';

export function transportSecurityHeaders(config: Config): Record<string, string> {
  return config.isProduction ? { 'Strict-Transport-Security': HSTS_VALUE } : {};
}

export interface CspOptions {
  /** Where forms may lead: the sign-in provider, the payment page. */
  formActionOrigins: string[];
  /** Beyond https: and our own: the sign-in provider's, whose profile pictures we show. */
  imageOrigins?: string[];
  upgradeInsecure: boolean;
}

/**
 * Scripts: our own files only. The build never inlines a script (astro.config.mjs), and JSON
 * data blocks (`<script type="application/json">`) are not executed, so the policy is the
 * same for every page and needs no look at the page itself. Styles allow inline (Astro inlines small stylesheets, pages use style attributes);
 * images allow https for profile pictures from the sign-in provider.
 */
export function contentSecurityPolicy(options: CspOptions): string {
  const directives = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: blob: https:${options.imageOrigins?.length ? ` ${[...new Set(options.imageOrigins)].join(' ')}` : ''}`,
    "media-src 'self' blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    `form-action 'self'${options.formActionOrigins.length ? ` ${[...new Set(options.formActionOrigins)].join(' ')}` : ''}`,
  ];
  if (options.upgradeInsecure) directives.push('upgrade-insecure-requests');
  return directives.join('; ');
}

/**
 * In production behind a proxy that says the client came over plain HTTP, the address to
 * send them to instead (the public https URL with the same path). Null: serve as is.
 */
export function httpsRedirectLocation(config: Config, forwardedProto: string | null | undefined, pathAndQuery: string): string | null {
  if (!config.isProduction || !config.server.trustProxy) return null;
  const proto = forwardedProto?.split(',')[0]?.trim().toLowerCase();
  if (proto !== 'http') return null;
  const base = new URL(config.server.publicBaseUrl);
  if (base.protocol !== 'https:') return null;
  return `${base.origin}${pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`}`;
}
