import { z } from 'zod';
import { adminAction } from '../../../../../lib/http/admin-action.ts';
import { recheckPayment } from '../../../../../lib/admin/payments.ts';
import { t } from '../../../../../lib/i18n/index.ts';

/** POST /api/admin/payments/:id/recheck: re-read the payment from YooKassa and apply it (credited at most once). */
export const POST = adminAction({ schema: z.object({}), fallbackReturn: () => '/admin/payments' }, async (_input, { ctx, actor, locale, params }) => {
  const result = await recheckPayment(ctx, { paymentId: params.id!, actor });
  const credited = result.applied && !result.appliedBefore;
  return {
    notice: credited ? 'payment_credited' : 'payment_rechecked',
    noticeParams: { status: t(locale, `payments.status.${result.status}`) },
    data: { ...result },
  };
});
