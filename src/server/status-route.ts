import type { NodeRoute } from './http-server.ts';
import { peekSessionUser, SESSION_COOKIE } from '../lib/auth/sessions.ts';
import { readCookie } from '../lib/http/node-auth.ts';
import { BASE_SECURITY_HEADERS } from '../lib/http/security.ts';
import { getGenerationView } from '../lib/generation/views.ts';
import { ID_PATTERN } from '../lib/ids.ts';
import { LOCALE_COOKIE, resolveLocale } from '../lib/i18n/index.ts';


/**
 * `GET /api/status`, the request every watching browser repeats, answered without Astro
 * when nothing but the answer is needed: a same-site request (no `Origin`, so no CORS
 * headers), a session that needs no refresh, the owner's generation found. Astro's request
 * and response machinery was measured at several times the cost of the work itself
 * (`npm run bench -- status`). Everything else — no or stale session, disabled account,
 * bad or foreign id, cross-origin — falls through to the Astro route
 * (src/pages/api/status.ts) and its middleware, which own every error answer. The status
 * path has no rate-limit rule (src/lib/http/rate-limits.ts); one added there must be
 * checked here too.
 */
export const statusRoute: NodeRoute = ({ ctx, req, res, url }) => {
  if (url.pathname !== '/api/status' || req.method !== 'GET' || req.headers.origin !== undefined) return false;
  const token = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (!token) return false;
  const now = ctx.clock.now();
  const user = peekSessionUser(ctx.db, token, { now, ttlMs: ctx.config.session.ttlMs });
  if (!user) return false;
  const generationId = url.searchParams.get('generationId') ?? '';
  if (!ID_PATTERN.test(generationId)) return false;
  const locale = resolveLocale(readCookie(req.headers.cookie, LOCALE_COOKIE) ?? undefined, req.headers['accept-language'] ?? null);
  const view = getGenerationView(ctx.db, generationId, user, locale, now);
  if (!view) return false;
  const body = JSON.stringify(view);
  res.writeHead(200, {
    ...BASE_SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
  return true;
};
