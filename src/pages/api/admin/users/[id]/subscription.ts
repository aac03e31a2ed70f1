import { z } from 'zod';
import { adminAction } from '../../../../../lib/http/admin-action.ts';
import { setSubscription } from '../../../../../lib/admin/users.ts';
import { PLANS } from '../../../../../lib/model.ts';
import { parseMoscowDate } from '../../../../../lib/admin/format.ts';
import { formBool, reasonField } from '../../../../../lib/admin/schemas.ts';
import { badRequest } from '../../../../../lib/errors.ts';

const schema = z.object({
  plan: z.enum(PLANS, { message: 'ADMIN_PLAN_INVALID' }),
  isPaid: formBool.optional(),
  /** A day (`YYYY-MM-DD`, the plan ends when it ends in Moscow), epoch ms, or empty for "no end". */
  expiresAt: z.union([z.string().max(30), z.number(), z.null()]).optional(),
  reason: reasonField,
});

const DAY_MS = 24 * 60 * 60 * 1000;

function parseExpiry(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number') return value;
  const dayStart = parseMoscowDate(value);
  if (dayStart === null) throw badRequest('ADMIN_EXPIRY_INVALID', 'expiresAt');
  return dayStart + DAY_MS - 1;
}

/** POST /api/admin/users/:id/subscription {plan, isPaid, expiresAt, reason}. */
export const POST = adminAction(
  { schema, fallbackReturn: (p) => `/admin/users/${p.id}` },
  async (input, { ctx, actor, params, requestKey }) => {
    const result = await setSubscription(ctx.db, {
      userId: params.id!,
      plan: input.plan,
      isPaid: input.isPaid ?? false,
      expiresAt: parseExpiry(input.expiresAt),
      reason: input.reason,
      actor,
      now: ctx.clock.now(),
      requestKey,
    });
    return { notice: result.applied ? 'subscription_set' : 'already_done', data: { ...result } };
  },
);
