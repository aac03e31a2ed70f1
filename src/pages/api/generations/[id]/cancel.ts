import { apiRoute, json } from '../../../../lib/http/respond.ts';
import { AppError, notFound, unauthorized } from '../../../../lib/errors.ts';
import { cancelGeneration } from '../../../../lib/generation/cancel.ts';
import { getGenerationView } from '../../../../lib/generation/views.ts';
import { ID_PATTERN } from '../../../../lib/ids.ts';

/**
 * `POST /api/generations/:id/cancel`: the owner stops a generation that has not reached
 * MiniMax yet; it answers the `/api/status` view (now `failed`, `USER_CANCELED`, refunded).
 * Asked again it answers the same view; too late (at MiniMax) or already finished is a 409.
 */
export const POST = apiRoute(async ({ params, locals }) => {
  const { ctx, user } = locals;
  if (!user) throw unauthorized();
  const id = params.id ?? '';
  if (!ID_PATTERN.test(id)) throw notFound('GENERATION_NOT_FOUND');
  const outcome = await cancelGeneration(ctx.db, { generationId: id, userId: user.id, now: ctx.clock.now() });
  if (outcome.kind === 'not-found') throw notFound('GENERATION_NOT_FOUND');
  if (outcome.kind === 'finished') throw new AppError('GENERATION_ALREADY_FINISHED', { status: 409 });
  if (outcome.kind === 'at-minimax') throw new AppError('GENERATION_AT_MINIMAX', { status: 409 });
  if (outcome.refundedNow) locals.log.info({ generationId: id, userId: user.id }, 'generation canceled by its owner; credits returned');
  const view = await getGenerationView(ctx.db, id, user, locals.locale, ctx.clock.now());
  if (!view) throw notFound('GENERATION_NOT_FOUND');
  return json(view);
});
