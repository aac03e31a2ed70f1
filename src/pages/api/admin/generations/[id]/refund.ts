import { z } from 'zod';
import { adminAction } from '../../../../../lib/http/admin-action.ts';
import { refundGenerationByAdmin } from '../../../../../lib/admin/generations.ts';
import { reasonField } from '../../../../../lib/admin/schemas.ts';

/** POST /api/admin/generations/:id/refund {reason}: return a finished generation's credits, once. */
export const POST = adminAction(
  { schema: z.object({ reason: reasonField }), fallbackReturn: (p) => `/admin/generations/${p.id}` },
  async (input, { ctx, actor, params, requestKey }) => {
    const result = await refundGenerationByAdmin(ctx, { id: params.id!, reason: input.reason ?? '', actor, requestKey });
    return {
      notice: result.applied ? 'generation_refunded' : 'already_done',
      noticeParams: { credits: result.credits },
      data: { ...result },
    };
  },
);
