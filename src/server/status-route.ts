import type { NodeRoute } from './http-server.ts';
import { localeOfNodeRequest, peekNodeSessionUser, sendJson } from '../lib/http/node-kit.ts';
import { getGenerationView } from '../lib/generation/views.ts';
import { ID_PATTERN } from '../lib/ids.ts';

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
export const statusRoute: NodeRoute = async ({ ctx, req, res, url }) => {
  if (url.pathname !== '/api/status' || req.method !== 'GET' || req.headers.origin !== undefined) return false;
  const user = await peekNodeSessionUser(ctx, req);
  if (!user) return false;
  const generationId = url.searchParams.get('generationId') ?? '';
  if (!ID_PATTERN.test(generationId)) return false;
  const view = await getGenerationView(ctx.db, generationId, user, localeOfNodeRequest(req), ctx.clock.now());
  if (!view) return false;
  sendJson(res, 200, view);
  return true;
};
