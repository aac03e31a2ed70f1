import { z } from 'zod';
import { adminAction } from '../../../../../lib/http/admin-action.ts';
import { adjustBalance } from '../../../../../lib/admin/users.ts';
import { reasonField } from '../../../../../lib/admin/schemas.ts';

const schema = z.object({
  delta: z.coerce.number({ message: 'ADMIN_DELTA_INVALID' }).int('ADMIN_DELTA_INVALID'),
  reason: reasonField,
});

/** POST /api/admin/users/:id/balance {delta, reason} → a ledger line `admin_adjustment`. */
export const POST = adminAction(
  { schema, fallbackReturn: (p) => `/admin/users/${p.id}` },
  async (input, { ctx, actor, params, requestKey }) => {
    const result = await adjustBalance(ctx.db, {
      userId: params.id!,
      delta: input.delta,
      reason: input.reason ?? '',
      actor,
      now: ctx.clock.now(),
      requestKey,
    });
    return {
      notice: result.applied ? 'balance_adjusted' : 'already_done',
      noticeParams: { balance: result.balanceAfter },
      data: { ...result },
    };
  },
);
