import { defineMiddleware } from 'astro:middleware';
import { LOCALE_COOKIE, resolveLocale } from './lib/i18n/index.ts';
import { SESSION_COOKIE, validateSessionToken } from './lib/auth/sessions.ts';

/**
 * Runs before every page and API route: language, then session → `locals.user`.
 * `locals.ctx`, `requestId` and `log` come from the node server (src/server/http-server.ts).
 */
export const onRequest = defineMiddleware(async (context, next) => {
  const { locals, cookies, request } = context;
  const ctx = locals.ctx;
  locals.locale = resolveLocale(cookies.get(LOCALE_COOKIE)?.value, request.headers.get('accept-language'));
  locals.user = null;
  locals.session = null;

  const token = cookies.get(SESSION_COOKIE)?.value;
  if (token) {
    const ttlMs = ctx.config.session.ttlMs;
    const validated = validateSessionToken(ctx.db, token, { now: ctx.clock.now(), ttlMs });
    if (validated) {
      locals.user = validated.user;
      locals.session = validated.session;
      if (validated.extended) {
        cookies.set(SESSION_COOKIE, token, {
          httpOnly: true,
          sameSite: 'lax',
          path: '/',
          secure: ctx.config.isProduction,
          maxAge: Math.floor(ttlMs / 1000),
        });
      }
    } else {
      cookies.delete(SESSION_COOKIE, { path: '/' });
    }
  }
  return next();
});
