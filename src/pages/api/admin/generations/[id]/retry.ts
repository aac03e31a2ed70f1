import { z } from 'zod';
import { adminAction } from '../../../../../lib/http/admin-action.ts';
import { retryGenerationByAdmin } from '../../../../../lib/admin/generations.ts';
import { formBool, reasonField } from '../../../../../lib/admin/schemas.ts';

/** POST /api/admin/generations/:id/retry {free, reason}: queue a failed generation again (new hold, or free with a reason). */
export const POST = adminAction(
  { schema: z.object({ free: formBool.optional(), reason: reasonField }), fallbackReturn: (p) => `/admin/generations/${p.id}` },
  async (input, { ctx, actor, params, requestKey }) => {
    const result = await retryGenerationByAdmin(ctx, { id: params.id!, free: input.free ?? false, reason: input.reason, actor, requestKey });
    return {
      notice: result.applied ? 'generation_retried' : 'already_done',
      noticeParams: { id: result.generationId },
      data: { ...result },
    };
  },
);
