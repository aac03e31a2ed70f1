import { z } from 'zod';
import { apiRoute, json } from '../../lib/http/respond.ts';
import { parseInput } from '../../lib/parse-input.ts';
import { notFound, unauthorized } from '../../lib/errors.ts';
import { getGenerationView } from '../../lib/generation/views.ts';
import { ID_PATTERN } from '../../lib/ids.ts';

const querySchema = z.object({ generationId: z.string().regex(ID_PATTERN, { message: 'GENERATION_NOT_FOUND' }) });

/** `GET /api/status?generationId=`: the owner's view of one generation; anyone else gets 404. */
export const GET = apiRoute(async ({ url, locals }) => {
  const { ctx, user } = locals;
  if (!user) throw unauthorized();
  const { generationId } = parseInput(querySchema, { generationId: url.searchParams.get('generationId') ?? '' });
  const view = await getGenerationView(ctx.db, generationId, user, locals.locale, ctx.clock.now());
  if (!view) throw notFound('GENERATION_NOT_FOUND');
  return json(view);
});
