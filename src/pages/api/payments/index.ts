import { unauthorized } from '../../../lib/errors.ts';
import { apiRoute, json } from '../../../lib/http/respond.ts';
import { listUserPayments } from '../../../lib/billing/payment-store.ts';
import { paymentMessage, paymentStatusLabel, toPaymentView } from '../../../lib/billing/payment-rules.ts';

/** GET /api/payments → the signed-in user's payments, newest first. */
export const GET = apiRoute(async ({ locals }) => {
  if (!locals.user) throw unauthorized();
  const now = locals.ctx.clock.now();
  const payments = (await listUserPayments(locals.ctx.db, locals.user.id)).map((payment) => ({
    ...toPaymentView(payment, now),
    statusLabel: paymentStatusLabel(payment, locals.locale, now),
    message: paymentMessage(payment, locals.locale, now),
  }));
  return json({ success: true, payments });
});
