import { unauthorized } from '../../../lib/errors.ts';
import { apiRoute, json } from '../../../lib/http/respond.ts';
import { t } from '../../../lib/i18n/index.ts';
import { listUserPayments, paymentMessage, toPaymentView } from '../../../lib/billing/payments.ts';

/** GET /api/payments → the signed-in user's payments, newest first. */
export const GET = apiRoute(({ locals }) => {
  if (!locals.user) throw unauthorized();
  const payments = listUserPayments(locals.ctx.db, locals.user.id).map((payment) => ({
    ...toPaymentView(payment),
    statusLabel: t(locals.locale, `payments.status.${payment.status}`),
    message: paymentMessage(payment, locals.locale),
  }));
  return json({ success: true, payments });
});
