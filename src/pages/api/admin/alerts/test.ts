import { z } from 'zod';
import { adminAction } from '../../../../lib/admin/http.ts';
import { sendTestAlert } from '../../../../lib/admin/alerts.ts';

/** POST /api/admin/alerts/test: a TEST_ALERT through the real notifier. */
export const POST = adminAction({ schema: z.object({}), fallbackReturn: () => '/admin/alerts' }, (_input, { ctx, actor }) => {
  const result = sendTestAlert(ctx, { actor });
  return { notice: 'test_alert_sent', data: { ...result } };
});
