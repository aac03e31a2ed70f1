import { forbidden } from '../../../../lib/errors.ts';
import { apiRoute, json } from '../../../../lib/http/respond.ts';
import { handlePaymentNotification } from '../../../../lib/billing/apply-payment.ts';
import { isAllowedSource, parseAllowList, requestClientAddress } from '../../../../lib/http/client-address.ts';

const MAX_NOTIFICATION_BYTES = 64 * 1024;

/**
 * POST /api/payments/yookassa/webhook — YooKassa's HTTP notifications. No session and no
 * Origin check; the source address must be on YOOKASSA_WEBHOOK_ALLOWED_IPS, and the body only
 * names the payment to re-read. 200 for everything handled or ignored; 503 only when the
 * re-read failed, so YooKassa delivers again.
 */
export const POST = apiRoute(async ({ request, locals }) => {
  const { ctx } = locals;
  const address = requestClientAddress(locals.clientAddress, request.headers, ctx.config.server.trustProxy);
  if (!isAllowedSource(parseAllowList(ctx.config.yookassa.webhookAllowedIps), address)) {
    locals.log.warn({ mod: 'billing', address }, 'YooKassa notification from an address outside the allow-list');
    throw forbidden('WEBHOOK_FORBIDDEN');
  }
  const text = await request.text();
  let body: unknown = null;
  if (text.length <= MAX_NOTIFICATION_BYTES) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  const outcome = await handlePaymentNotification(ctx, body);
  locals.log.info({ mod: 'billing', outcome, event: (body as { event?: unknown } | null)?.event }, 'YooKassa notification');
  return json({ success: true, outcome });
});
