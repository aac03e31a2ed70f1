import { z } from 'zod';
import { unauthorized } from '../../../../lib/errors.ts';
import { apiRoute, json } from '../../../../lib/http/respond.ts';
import { parseInput } from '../../../../lib/parse-input.ts';
import { checkPayment } from '../../../../lib/billing/apply-payment.ts';
import { paymentMessage, toPaymentView } from '../../../../lib/billing/payment-rules.ts';

const checkSchema = z.object({
  paymentId: z.string({ error: 'PAYMENT_ID_REQUIRED' }).min(1, 'PAYMENT_ID_REQUIRED').max(100, 'PAYMENT_ID_REQUIRED'),
});

/** GET /api/payments/yookassa/check?paymentId= → the payment's status and the new balance (owner only). */
export const GET = apiRoute(async ({ url, locals }) => {
  if (!locals.user) throw unauthorized();
  const { paymentId } = parseInput(checkSchema, { paymentId: url.searchParams.get('paymentId') ?? undefined });
  const { payment, balance, plan } = await checkPayment(locals.ctx, { userId: locals.user.id, paymentId });
  const now = locals.ctx.clock.now();
  return json({
    success: true,
    ...toPaymentView(payment, now),
    message: paymentMessage(payment, locals.locale, now),
    balance,
    userPlan: plan,
  });
});
