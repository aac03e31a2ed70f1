import { apiRoute, json } from '../../lib/http/respond.ts';
import { badRequest, unauthorized } from '../../lib/errors.ts';
import { createGeneration } from '../../lib/generation/create.ts';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,100}$/;

export const POST = apiRoute(async ({ request, locals }) => {
  const { ctx, user } = locals;
  if (!user) throw unauthorized();
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw badRequest('INVALID_JSON');
  }
  const key = request.headers.get('idempotency-key');
  const created = createGeneration({
    db: ctx.db,
    config: ctx.config,
    userId: user.id,
    body,
    idempotencyKey: key && IDEMPOTENCY_KEY.test(key) ? key : null,
    now: ctx.clock.now(),
  });
  ctx.generationWorker.wake();
  return json(created);
});
