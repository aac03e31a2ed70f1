import { z } from 'zod';
import { adminAction } from '../../../../../lib/http/admin-action.ts';
import { requeueGeneration } from '../../../../../lib/admin/generations.ts';
import { reasonField } from '../../../../../lib/admin/schemas.ts';

/** POST /api/admin/generations/:id/requeue: a live generation resumes from its step now. */
export const POST = adminAction(
  { schema: z.object({ reason: reasonField }), fallbackReturn: (p) => `/admin/generations/${p.id}` },
  async (input, { ctx, actor, params, requestKey }) => {
    const result = await requeueGeneration(ctx, { id: params.id!, reason: input.reason, actor, requestKey });
    return { notice: result.applied ? 'generation_requeued' : 'already_done', data: { ...result } };
  },
);
