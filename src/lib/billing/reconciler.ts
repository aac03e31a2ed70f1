import type { BackgroundTask } from '../tasks.ts';
import { everyPass, type ExclusiveRunner } from '../db/exclusive.ts';
import { isYookassaError } from '../providers/yookassa/client.ts';
import { refreshPayment } from './apply-payment.ts';
import { reportPaymentProblem, type BillingDeps } from './billing-deps.ts';
import { listPaymentsDueForCheck } from './payment-store.ts';
import { CREATE_ABANDONED_AFTER_MS } from './payment-rules.ts';

export interface ReconcileReport {
  checked: number;
  changed: number;
  failed: number;
  abandoned: number;
  /** YooKassa answered 404 (see `markPaymentUnknown`). */
  unknown: number;
}

/**
 * Settles payments whose notification never came: open payments younger than a day are
 * re-read (one YooKassa does not know, only when its next check is due). Rows that never got
 * a YooKassa id (the process died during the create call) are closed as failed: their buyer
 * never saw a confirmation page.
 */
export async function reconcilePendingPayments(ctx: BillingDeps): Promise<ReconcileReport> {
  const now = ctx.clock.now();
  const { changes: abandoned } = await ctx.db.run(
    `UPDATE payments SET status = 'failed', last_error = 'create call interrupted', updatedAt = ?
     WHERE status = 'pending' AND externalPaymentId IS NULL AND createdAt < ?`,
    [now, now - CREATE_ABANDONED_AFTER_MS],
  );
  const open = await listPaymentsDueForCheck(ctx.db, now);

  const report: ReconcileReport = { checked: 0, changed: 0, failed: 0, abandoned, unknown: 0 };
  for (const payment of open) {
    report.checked += 1;
    try {
      const outcome = await refreshPayment(ctx, payment);
      if (outcome === 'unknown') report.unknown += 1;
      else if (outcome !== 'pending' && outcome !== 'unchanged' && outcome !== 'already_applied') report.changed += 1;
    } catch (err) {
      report.failed += 1;
      if (isYookassaError(err) && err.transient) {
        ctx.log.warn({ mod: 'billing', paymentId: payment.id, err }, 'reconciliation could not reach YooKassa');
      } else {
        reportPaymentProblem(ctx, { error: `Сверка платежа не удалась: ${String(err)}`, userId: payment.userId, paymentId: payment.id, err });
      }
    }
  }
  return report;
}


/**
 * The reconciliation task: runs `reconcilePendingPayments` at start and every PAYMENT_RECONCILE_INTERVAL_MS, so a payment
 * whose notification never arrived is still credited. Runs never overlap; with `exclusive`, only
 * one process of several runs them (each payment is credited once anyway; the others would only
 * ask YooKassa the same questions again).
 */
export function createPaymentReconciler(ctx: BillingDeps, exclusive?: ExclusiveRunner): BackgroundTask {
  const log = ctx.log.child({ mod: 'billing', task: 'reconcile-payments' });
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = true;

  const runOnce = (): void => {
    if (running || stopped) return;
    const pass = async (): Promise<void> => {
      const report = await reconcilePendingPayments(ctx);
      if (report.checked > 0 || report.abandoned > 0) log.info(report, 'payments reconciled');
    };
    running = (exclusive ?? everyPass).run('reconcile-payments', pass)
      .then(() => undefined)
      .catch((err: unknown) => log.error({ err }, 'payment reconciliation failed'))
      .finally(() => {
        running = null;
      });
  };

  return {
    name: 'reconcile-payments',
    start() {
      if (!stopped) return;
      stopped = false;
      runOnce();
      timer = setInterval(runOnce, ctx.config.yookassa.reconcileIntervalMs);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
