import { z } from 'zod';
import { adminAction } from '../../../../../lib/http/admin-action.ts';
import { failGenerationByAdmin } from '../../../../../lib/admin/generations.ts';
import { reasonField } from '../../../../../lib/admin/schemas.ts';

/** POST /api/admin/generations/:id/fail {reason}: stop a live (stuck) generation and refund it once. */
export const POST = adminAction(
  { schema: z.object({ reason: reasonField }), fallbackReturn: (p) => `/admin/generations/${p.id}` },
  async (input, { ctx, actor, params, requestKey }) => {
    const result = await failGenerationByAdmin(ctx, { id: params.id!, reason: input.reason ?? '', actor, requestKey });
    return { notice: result.applied ? 'generation_failed' : 'already_done', data: { ...result } };
  },
);
