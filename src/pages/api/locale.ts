import { z } from 'zod';
import { LOCALE_COOKIE, LOCALES } from '../../lib/i18n/index.ts';
import { apiRoute, json, readJson } from '../../lib/http/respond.ts';
import { localeCookieOptions } from '../../lib/i18n/cookie.ts';

const localeInputSchema = z.object({ locale: z.enum(LOCALES, { message: 'INVALID_LOCALE' }) });

/** `POST {locale: 'ru' | 'en'}`: remembers the interface language. */
export const POST = apiRoute(async ({ request, cookies, locals }) => {
  const { locale } = await readJson(request, localeInputSchema);
  cookies.set(LOCALE_COOKIE, locale, localeCookieOptions(locals.ctx.config));
  return json({ success: true, locale });
});
