import type { Database } from '../db/database.ts';

/**
 * `npm run demo` only: the sandbox keeps payments in memory, so after a restart it answers
 * 404 for every payment still open from the previous run. Those are closed at the demo's
 * start as YooKassa itself closes an unconfirmed payment (`expired_on_confirmation`), never
 * credited. Production never calls this: there a 404 may hide a real, paid payment (see
 * `markPaymentUnknown` in apply-payment.ts). Kept apart from the payment services so the demo script
 * (run by tsx, without the build's SQL imports) can load it.
 */
export async function expireForgottenSandboxPayments(db: Database, now: number): Promise<number> {
  const { changes } = await db.run(
    `UPDATE payments SET status = 'canceled', cancellation_party = 'yoo_money', cancellation_reason = 'expired_on_confirmation',
       last_error = 'demo restart: the sandbox forgot this payment', updatedAt = ?
     WHERE status IN ('pending', 'waiting_for_capture') AND applied = 0 AND createdAt < ?`,
    [now, now],
  );
  return changes;
}
