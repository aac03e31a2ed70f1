import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { Notifier } from '../notify/types.ts';
import type { YookassaClient } from '../providers/yookassa/client.ts';

/** What the payment services need (built by the composition root), and how they page the operator. */

export interface BillingDeps {
  db: Database;
  config: Config;
  clock: Clock;
  log: Logger;
  yookassa: YookassaClient;
  /** Payment problems page the operator (stage PAYMENT). */
  notifier: Notifier;
}


/**
 * A payment problem the operator must see: logged, and sent as a Telegram alert with stage
 * PAYMENT (the local payment id goes into the text). Never throws: an alert must not break
 * the payment flow.
 */
export function reportPaymentProblem(
  ctx: Pick<BillingDeps, 'log' | 'notifier'>,
  problem: { error: string; userId?: string | null; paymentId?: string | null; err?: unknown },
): void {
  try {
    ctx.log.error(
      { mod: 'billing', stage: 'PAYMENT', userId: problem.userId ?? null, paymentId: problem.paymentId ?? null, err: problem.err },
      problem.error,
    );
    const where = problem.paymentId ? ` (payment ${problem.paymentId})` : '';
    ctx.notifier.alert({ stage: 'PAYMENT', userId: problem.userId ?? null, error: `${problem.error}${where}` });
  } catch {
    // Alerting itself failed: nothing sensible is left to do; the payment flow goes on.
  }
}
