import { z } from 'zod';
import { apiRoute, json } from '../../lib/http/respond.ts';
import { parseInput } from '../../lib/parse-input.ts';
import { unauthorized } from '../../lib/errors.ts';
import { listGenerationViews } from '../../lib/generation/views.ts';

const querySchema = z.object({
  cursor: z.string().max(200).nullable(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

/** `GET /api/generations?cursor=&limit=`: the user's history, newest first. */
export const GET = apiRoute(async ({ url, locals }) => {
  const { ctx, user } = locals;
  if (!user) throw unauthorized();
  const { cursor, limit } = parseInput(querySchema, {
    cursor: url.searchParams.get('cursor') || null,
    limit: url.searchParams.get('limit') ?? undefined,
  });
  return json(await listGenerationViews(ctx.db, user.id, { cursor, limit, locale: locals.locale, now: ctx.clock.now() }));
});
