import { apiRoute, json, readJsonBody } from '../../lib/http/respond.ts';
import { unauthorized } from '../../lib/errors.ts';
import { createGeneration } from '../../lib/generation/create.ts';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,100}$/;

export const POST = apiRoute(async ({ request, locals }) => {
  const { ctx, user } = locals;
  if (!user) throw unauthorized();
  const body = await readJsonBody(request);
  const key = request.headers.get('idempotency-key');
  const created = await createGeneration({
    db: ctx.db,
    config: ctx.config,
    queue: ctx.generationWorker,
    userId: user.id,
    body,
    idempotencyKey: key && IDEMPOTENCY_KEY.test(key) ? key : null,
    now: ctx.clock.now(),
  });
  ctx.generationWorker.wake(created.generationId);
  return json(created);
});
