import { z } from 'zod';
import { unauthorized } from '../../../../lib/errors.ts';
import { apiRoute, json, readJson } from '../../../../lib/http/respond.ts';
import { startPayment } from '../../../../lib/billing/start-payment.ts';

const createSchema = z.object({ plan: z.string({ error: 'UNKNOWN_TARIFF' }).min(1, 'UNKNOWN_TARIFF').max(32, 'UNKNOWN_TARIFF') });

/** POST /api/payments/yookassa/create {plan} → where to send the buyer to pay. */
export const POST = apiRoute(async ({ request, locals }) => {
  if (!locals.user) throw unauthorized();
  const { plan } = await readJson(request, createSchema);
  const started = await startPayment(locals.ctx, { user: locals.user, tariffId: plan, locale: locals.locale });
  return json({ success: true, ...started });
});
