import type { BackgroundTask } from '../tasks.ts';
import { reconcilePendingPayments, type BillingDeps } from './payments.ts';

/**
 * Re-reads open payments at start and every PAYMENT_RECONCILE_INTERVAL_MS, so a payment
 * whose notification never arrived is still credited. Runs never overlap.
 */
export function createPaymentReconciler(ctx: BillingDeps): BackgroundTask {
  const log = ctx.log.child({ mod: 'billing', task: 'reconcile-payments' });
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = true;

  const runOnce = (): void => {
    if (running || stopped) return;
    running = reconcilePendingPayments(ctx)
      .then((report) => {
        if (report.checked > 0 || report.abandoned > 0) log.info(report, 'payments reconciled');
      })
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
