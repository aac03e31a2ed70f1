import { apiRoute, json, readJsonBody } from '../../lib/http/respond.ts';
import { unauthorized } from '../../lib/errors.ts';
import { makePreview } from '../../lib/preview/make-preview.ts';

/** What the prompt engine makes of the seller's text before paying, or an edit of it (issue 16). */
export const POST = apiRoute(async ({ request, locals }) => {
  const { ctx, user } = locals;
  if (!user) throw unauthorized();
  const body = await readJsonBody(request);
  const preview = await makePreview({ db: ctx.db, config: ctx.config, engine: ctx.promptEngine }, { userId: user.id, body, now: ctx.clock.now() });
  return json(preview);
});
