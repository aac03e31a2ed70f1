import { z } from 'zod';
import { adminAction } from '../../../../../lib/http/admin-action.ts';
import { setRole } from '../../../../../lib/admin/users.ts';
import { reasonField } from '../../../../../lib/admin/schemas.ts';

const schema = z.object({ role: z.enum(['user', 'admin'], { message: 'ADMIN_ROLE_INVALID' }), reason: reasonField });

/** POST /api/admin/users/:id/role {role, reason}: grant or remove the admin role. */
export const POST = adminAction(
  { schema, fallbackReturn: (p) => `/admin/users/${p.id}` },
  async (input, { ctx, actor, params, requestKey }) => {
    const result = await setRole(ctx.db, { userId: params.id!, role: input.role, reason: input.reason ?? '', actor, now: ctx.clock.now(), requestKey });
    const notice = !result.applied ? 'role_unchanged' : input.role === 'admin' ? 'admin_granted' : 'admin_revoked';
    return { notice, data: { ...result } };
  },
);
