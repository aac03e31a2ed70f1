import { z } from 'zod';
import { adminAction } from '../../../../../lib/http/admin-action.ts';
import { setDisabled } from '../../../../../lib/admin/users.ts';
import { formBool, reasonField } from '../../../../../lib/admin/schemas.ts';

const schema = z.object({ disabled: formBool, reason: reasonField });

/** POST /api/admin/users/:id/disabled {disabled, reason}: disabling ends every session at once. */
export const POST = adminAction(
  { schema, fallbackReturn: (p) => `/admin/users/${p.id}` },
  async (input, { ctx, actor, params, requestKey }) => {
    const result = await setDisabled(ctx.db, {
      userId: params.id!,
      disabled: input.disabled,
      reason: input.reason ?? '',
      actor,
      now: ctx.clock.now(),
      requestKey,
    });
    const notice = !result.applied ? 'already_done' : input.disabled ? 'user_disabled' : 'user_enabled';
    return { notice, noticeParams: { sessions: result.sessionsEnded }, data: { ...result } };
  },
);
