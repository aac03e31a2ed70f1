import { z } from 'zod';
import { adminAction } from '../../../../lib/http/admin-action.ts';
import { sendTestAlert } from '../../../../lib/admin/alerts.ts';

/** POST /api/admin/alerts/test: checks the alert chat, then a TEST_ALERT through the real notifier. */
export const POST = adminAction({ schema: z.object({}), fallbackReturn: () => '/admin/alerts' }, async (_input, { ctx, actor }) => {
  const result = await sendTestAlert(ctx, { actor });
  return { notice: result.chat.state === 'ok' || result.chat.state === 'disabled' ? 'test_alert_sent' : 'test_alert_chat_problem', data: { ...result } };
});
