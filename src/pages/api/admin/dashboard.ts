import { adminRead } from '../../../lib/http/admin-action.ts';
import { getDashboard } from '../../../lib/admin/dashboard.ts';

/** GET /api/admin/dashboard → the overview figures as JSON (monitoring, scripts). */
export const GET = adminRead(async ({ locals }) => ({ success: true, ...(await getDashboard(locals.ctx.db, locals.ctx.clock.now())) }));
