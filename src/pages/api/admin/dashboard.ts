import { adminRead } from '../../../lib/admin/http.ts';
import { getDashboard } from '../../../lib/admin/dashboard.ts';

/** GET /api/admin/dashboard → the overview figures as JSON (monitoring, scripts). */
export const GET = adminRead(({ locals }) => ({ success: true, ...getDashboard(locals.ctx.db, locals.ctx.clock.now()) }));
