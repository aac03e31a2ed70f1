/**
 * The domain vocabulary, declared once: generation modes, lengths, statuses and steps,
 * prompt limits, payment statuses, ledger kinds and the ledger's reference strings. Plain
 * values and types only (no Node, no database), so the browser scripts import it too.
 */

export const GENERATION_MODES = ['template', 'prompt'] as const;
export type GenerationMode = (typeof GENERATION_MODES)[number];

/** Video lengths in seconds, as MiniMax offers them. */
export const DURATIONS = [6, 10] as const;
export type Duration = (typeof DURATIONS)[number];

/** What users see (the spec's four); the pipeline's position is the step. */
export const GENERATION_STATUSES = ['queued', 'processing', 'success', 'failed'] as const;
export type GenerationStatus = (typeof GENERATION_STATUSES)[number];

export const GENERATION_STEPS = ['prepare', 'submit', 'poll', 'download', 'done'] as const;
export type GenerationStep = (typeof GENERATION_STEPS)[number];

/** Prompt length in characters after trimming (the spec's 3–2000; MiniMax takes at most 2000). */
export const PROMPT_MIN = 3;
export const PROMPT_MAX = 2000;

export const PAYMENT_STATUSES = ['pending', 'waiting_for_capture', 'succeeded', 'canceled', 'failed'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
/** Statuses YooKassa may still move; the others are final. */
export const OPEN_PAYMENT_STATUSES: readonly PaymentStatus[] = ['pending', 'waiting_for_capture'];

/** Plans in rising order: a purchase never moves a user down. */
export const PLANS = ['free', 'basic', 'professional'] as const;
export type Plan = (typeof PLANS)[number];

export const LEDGER_KINDS = ['trial', 'hold', 'refund', 'payment', 'admin_adjustment'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

/**
 * Ledger references: unique per change, so a repeated change is a no-op. Each one names the
 * thing the credits moved for; NEVER build one by hand — two spellings of one change would
 * both apply.
 */
export const ledgerRef = {
  trial: (userId: string) => `trial:${userId}`,
  hold: (generationId: string) => `hold:${generationId}`,
  refund: (generationId: string) => `refund:${generationId}`,
  payment: (paymentId: string) => `payment:${paymentId}`,
  adminAdjustment: (auditId: number) => `admin:${auditId}`,
} as const;

/** Whether a ledger line is a generation's hold or refund (its reference names the generation). */
export function generationOfLedgerRef(reference: string): string | null {
  const match = /^(?:hold|refund):(.+)$/.exec(reference);
  return match ? match[1]! : null;
}
