import { z } from 'zod';
import { adminAction } from '../../../../../lib/http/admin-action.ts';
import { requeryGeneration } from '../../../../../lib/admin/generations.ts';

/** POST /api/admin/generations/:id/requery: ask MiniMax about the task now and let the worker apply the answer. */
export const POST = adminAction({ schema: z.object({}), fallbackReturn: (p) => `/admin/generations/${p.id}` }, async (_input, { ctx, actor, params }) => {
  const result = await requeryGeneration(ctx, { id: params.id!, actor });
  return { notice: 'generation_requeried', noticeParams: { status: result.state }, data: { ...result } };
});
