import type { APIContext } from 'astro';
import { LOCALE_COOKIE, isLocale } from '../lib/i18n/index.ts';
import { localeCookieOptions } from '../lib/i18n/cookie.ts';
import { safeNextPath } from '../lib/auth/signin-state.ts';

/** `GET /lang?to=en&next=/login`: the language switch as a plain link (no script needed). */
export function GET(context: APIContext): Response {
  const to = context.url.searchParams.get('to');
  if (isLocale(to)) context.cookies.set(LOCALE_COOKIE, to, localeCookieOptions(context.locals.ctx.config));
  return context.redirect(safeNextPath(context.url.searchParams.get('next'), '/'), 303);
}
