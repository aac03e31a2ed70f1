import { defineMiddleware } from 'astro:middleware';
import { LOCALE_COOKIE, resolveLocale } from './lib/i18n/index.ts';
import { SESSION_COOKIE, checkSessionToken } from './lib/auth/sessions.ts';
import { sessionCookieOptions } from './lib/auth/cookies.ts';
import { signInPath } from './lib/auth/guards.ts';
import { adminPageAccess } from './lib/admin/access.ts';
import { AppError, forbidden, tooManyRequests } from './lib/errors.ts';
import { errorResponse } from './lib/http/respond.ts';
import { clientIp } from './lib/http/client-ip.ts';
import {
  BASE_SECURITY_HEADERS,
  contentSecurityPolicy,
  transportSecurityHeaders,
  corsHeaders,
  isAllowedCorsOrigin,
  isOriginCheckExempt,
  isStateChanging,
  isTrustedStateChange,
  preflightHeaders,
} from './lib/http/security.ts';
import type { AppContext } from './lib/context.ts';

/**
 * Runs before every page and API route, in this order: language; CORS preflight; refusal
 * of cross-site state changes; session → `locals.user`; sign-in redirect for private
 * pages; rate limits. On the way out: security headers (and CSP on pages), CORS headers.
 * `locals.ctx`, `requestId`, `log` and `clientAddress` come from the node server.
 */

/** Pages only signed-in people see; others go to /login and come back after. (Route patterns.) */
const PRIVATE_PAGE_PREFIXES = ['/app', '/billing', '/admin'];

const ADMIN_FORBIDDEN_PAGE = '/admin/forbidden';

const isUnder = (pathname: string, prefix: string) => pathname === prefix || pathname.startsWith(`${prefix}/`);

/**
 * The pages' Content-Security-Policy, the same for every page (no inline scripts: see
 * `contentSecurityPolicy`), so it is built once per context. It is rebuilt only when the
 * sign-in provider's origins change: an OIDC issuer may name another authorization host
 * in its discovery document, learnt on the first sign-in.
 */
const pagePolicies = new WeakMap<AppContext, { providerOrigins: string; policy: string }>();

function pageContentSecurityPolicy(ctx: AppContext): string {
  const providerOrigins = ctx.oauth.providerOrigins();
  const key = providerOrigins.join(' ');
  const cached = pagePolicies.get(ctx);
  if (cached?.providerOrigins === key) return cached.policy;
  const policy = contentSecurityPolicy({
    // The payment confirmation page (YooKassa, or the sandbox's) may be reached from a form.
    formActionOrigins: [...providerOrigins, 'https://yoomoney.ru', new URL(ctx.config.yookassa.apiBase).origin],
    imageOrigins: providerOrigins.filter((origin) => origin.startsWith('http:')),
    upgradeInsecure: ctx.config.isProduction,
  });
  pagePolicies.set(ctx, { providerOrigins: key, policy });
  return policy;
}

export const onRequest = defineMiddleware(async (context, next) => {
  const { locals, cookies, request, url } = context;
  const ctx = locals.ctx;
  const method = request.method.toUpperCase();
  // Every decision below is taken on the route that will run (its pattern, e.g.
  // `/admin/users/[id]`), never on a spelling of the path. The node server has already
  // made the path canonical; this keeps access right even if a spelling slipped through.
  const route = context.routePattern;
  // For the node server's request metrics: the matched pattern, never the raw path.
  locals.routePattern = route;
  locals.locale = resolveLocale(cookies.get(LOCALE_COOKIE)?.value, request.headers.get('accept-language'));
  locals.user = null;
  locals.session = null;
  const fail = (err: AppError) => errorResponse(err, locals.locale, locals.log);

  const origin = request.headers.get('origin');
  const corsOrigin = isAllowedCorsOrigin(origin, ctx.config) ? origin : null;
  if (method === 'OPTIONS' && origin && request.headers.get('access-control-request-method')) {
    if (!corsOrigin) return withSecurityHeaders(fail(forbidden('CORS_ORIGIN_NOT_ALLOWED')), ctx, null);
    return new Response(null, {
      status: 204,
      headers: preflightHeaders(corsOrigin, request.headers.get('access-control-request-headers')),
    });
  }

  if (isStateChanging(method) && !isOriginCheckExempt(route) && !isTrustedStateChange(request.headers, ctx.config)) {
    locals.log.warn({ origin, path: url.pathname, secFetchSite: request.headers.get('sec-fetch-site') }, 'cross-site request refused');
    return withSecurityHeaders(fail(forbidden('CROSS_SITE_REQUEST')), ctx, null);
  }

  const token = cookies.get(SESSION_COOKIE)?.value;
  if (token) {
    const check = await checkSessionToken(ctx.db, token, { now: ctx.clock.now(), ttlMs: ctx.config.session.ttlMs });
    if (check.kind === 'valid') {
      locals.user = check.user;
      locals.session = check.session;
      if (check.extended) cookies.set(SESSION_COOKIE, token, sessionCookieOptions(ctx.config));
    } else {
      cookies.delete(SESSION_COOKIE, { path: '/' });
    }
    if (check.kind === 'disabled') {
      locals.log.warn({ userId: check.userId }, 'disabled user refused; sessions deleted');
      // Say why once, clearly: the sessions are gone, so the next request is simply signed out.
      if (isUnder(route, '/api')) return withSecurityHeaders(fail(forbidden('ACCOUNT_DISABLED')), ctx, corsOrigin);
      if (method === 'GET' || method === 'HEAD') {
        return withSecurityHeaders(context.redirect('/login?error=ACCOUNT_DISABLED', 302), ctx, corsOrigin);
      }
    }
  }

  if (!locals.user && (method === 'GET' || method === 'HEAD') && PRIVATE_PAGE_PREFIXES.some((p) => isUnder(route, p))) {
    return withSecurityHeaders(context.redirect(signInPath(url), 302), ctx, corsOrigin);
  }
  // Admin pages: a signed-in non-admin sees the 403 page and nothing it lists. Each admin
  // page checks again itself (`guardAdminPage`), and admin APIs answer 401/403 JSON
  // through `requireAdmin`.
  if (isUnder(route, '/admin') && route !== ADMIN_FORBIDDEN_PAGE && adminPageAccess(locals) === 'forbidden') {
    return withSecurityHeaders(await context.rewrite(ADMIN_FORBIDDEN_PAGE), ctx, corsOrigin);
  }

  const limited = await ctx.rateLimits.consume({
    method,
    route,
    userId: locals.user?.id ?? null,
    ip: clientIp(request, locals),
  });
  if (limited) {
    locals.log.warn({ rule: limited.rule, userId: locals.user?.id }, 'rate limit reached');
    return withSecurityHeaders(fail(tooManyRequests(limited.retryAfterSeconds)), ctx, corsOrigin);
  }

  return withSecurityHeaders(await next(), ctx, corsOrigin);
});

/** Security headers on the way out; the body is passed through as it streams. */
function withSecurityHeaders(response: Response, ctx: AppContext, corsOrigin: string | null): Response {
  // A fresh Headers: responses made by Response.redirect() have immutable ones.
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(BASE_SECURITY_HEADERS)) headers.set(name, value);
  for (const [name, value] of Object.entries(transportSecurityHeaders(ctx.config))) headers.set(name, value);
  if (corsOrigin) {
    for (const [name, value] of Object.entries(corsHeaders(corsOrigin))) headers.set(name, value);
  }
  const type = headers.get('content-type') ?? '';
  if (type.startsWith('text/html')) {
    headers.set('Content-Security-Policy', pageContentSecurityPolicy(ctx));
    if (!/charset=/i.test(type)) headers.set('Content-Type', 'text/html; charset=utf-8');
  }
  // No statusText: pages that set only a status would otherwise carry "200 OK"'s phrase.
  return new Response(response.body, { status: response.status, headers });
}
