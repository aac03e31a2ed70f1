import { hasMessage, t, type Locale } from '../i18n/index.ts';
import type { PaymentStatus } from '../model.ts';
import type { YookassaPayment } from '../providers/yookassa/schemas.ts';
import type { Payment } from './payment-store.ts';
import { formatAmount, parseAmount } from './pricing.ts';

/** Pure rules of a payment: its meaning for the buyer, timings, and what a paid answer must match. */

/**
 * What a payment means for the buyer; `review` is a paid payment we refused to credit;
 * `expired` is still open here after YooKassa's time to confirm it ran out: the buyer
 * cancelled on the payment page or left it (YooKassa reports both as `expired_on_confirmation`).
 */
export type PaymentState = 'pending' | 'expired' | 'credited' | 'canceled' | 'failed' | 'review';

/** Pending payments are re-read for this long; older ones are left to admins. */
export const RECONCILE_WINDOW_MS = 24 * 60 * 60 * 1000;
/** A row still without a YooKassa id after this long lost its create call (crash mid-call). */
export const CREATE_ABANDONED_AFTER_MS = 10 * 60 * 1000;
/**
 * How long YooKassa waits for the buyer to confirm before it cancels the payment with
 * `expired_on_confirmation` (reported as about an hour for cards; reference/yookassa-api.md §3).
 */
export const CONFIRMATION_WINDOW_MS = 60 * 60 * 1000;
/** Pauses between checks of a payment YooKassa does not know: 5 min, 10, 20 … at most 6 h. */
export const UNKNOWN_RECHECK_BASE_MS = 5 * 60 * 1000;
export const UNKNOWN_RECHECK_MAX_MS = 6 * 60 * 60 * 1000;

/** The pause after the `checks`-th 404 in a row (1-based). */
export function unknownRecheckDelay(checks: number): number {
  return Math.min(UNKNOWN_RECHECK_MAX_MS, UNKNOWN_RECHECK_BASE_MS * 2 ** Math.max(0, Math.min(checks - 1, 20)));
}

export function paymentState(payment: Payment, now: number): PaymentState {
  if (payment.applied) return 'credited';
  if (payment.status === 'succeeded') return 'review';
  if (payment.status === 'canceled') return 'canceled';
  if (payment.status === 'failed') return 'failed';
  return now - payment.createdAt > CONFIRMATION_WINDOW_MS ? 'expired' : 'pending';
}

/** A sentence for the buyer: what happened and what to do next. */
export function paymentMessage(payment: Payment, locale: Locale, now: number): string {
  const state = paymentState(payment, now);
  if (state === 'canceled') {
    const key = `payments.cancel.${payment.cancellationReason ?? 'unknown'}`;
    return t(locale, hasMessage(key) ? key : 'payments.cancel.unknown');
  }
  return t(locale, `payments.state.${state}`, { credits: payment.credits });
}

/** The short status in the buyer's list of payments: an open one past its time reads as not completed. */
export function paymentStatusLabel(payment: Payment, locale: Locale, now: number): string {
  return t(locale, paymentState(payment, now) === 'expired' ? 'payments.status.expired' : `payments.status.${payment.status}`);
}

/** An unknown payment waits for its next check; everything else may be asked about now. */
export function isCheckDue(payment: Payment, now: number): boolean {
  return payment.nextCheckAt === null || payment.nextCheckAt <= now;
}

/** Why a succeeded payment must not be credited, or null when it matches our row. */
export function findMismatch(payment: Payment, remote: YookassaPayment): string | null {
  const problems: string[] = [];
  if (parseAmount(remote.amount.value) !== payment.amountKopecks) {
    problems.push(`amount ${remote.amount.value}, expected ${formatAmount(payment.amountKopecks)}`);
  }
  if (remote.amount.currency !== payment.currency) problems.push(`currency ${remote.amount.currency}, expected ${payment.currency}`);
  const metadata = remote.metadata ?? {};
  const expected: Record<string, string> = { paymentId: payment.id, userId: payment.userId, plan: payment.plan };
  for (const [key, value] of Object.entries(expected)) {
    if (String(metadata[key] ?? '') !== value) problems.push(`metadata.${key} ${String(metadata[key] ?? 'missing')}, expected ${value}`);
  }
  return problems.length > 0 ? problems.join('; ') : null;
}

export interface PaymentView {
  paymentId: string;
  externalPaymentId: string | null;
  status: PaymentStatus;
  state: PaymentState;
  plan: string;
  credits: number;
  /** YooKassa answered 404 for it: an admin resolves it by hand. */
  unknownAtProvider: boolean;
  /** "1490.00", as YooKassa writes it. */
  amount: string;
  amountKopecks: number;
  currency: string;
  applied: boolean;
  cancellation: { party: string | null; reason: string | null } | null;
  createdAt: number;
}

export function toPaymentView(payment: Payment, now: number): PaymentView {
  return {
    paymentId: payment.id,
    externalPaymentId: payment.externalPaymentId,
    status: payment.status,
    state: paymentState(payment, now),
    unknownAtProvider: payment.unknownSince !== null,
    plan: payment.plan,
    credits: payment.credits,
    amount: formatAmount(payment.amountKopecks),
    amountKopecks: payment.amountKopecks,
    currency: payment.currency,
    applied: payment.applied,
    cancellation:
      payment.status === 'canceled' ? { party: payment.cancellationParty, reason: payment.cancellationReason } : null,
    createdAt: payment.createdAt,
  };
}
