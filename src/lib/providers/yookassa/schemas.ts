import { z } from 'zod';

/**
 * What YooKassa answers (reference/yookassa-api.md §5, §7), validated at the boundary.
 * Objects are loose: YooKassa adds fields over time and we must not break on them.
 */

export const moneySchema = z.object({
  value: z.string().regex(/^\d+(\.\d{1,2})?$/, 'amount value must be a decimal string'),
  currency: z.string().min(3).max(3),
});
export type Money = z.infer<typeof moneySchema>;

export const PAYMENT_STATUSES = ['pending', 'waiting_for_capture', 'succeeded', 'canceled'] as const;
export type RemotePaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const paymentSchema = z.looseObject({
  id: z.string().min(1).max(64),
  status: z.enum(PAYMENT_STATUSES),
  paid: z.boolean(),
  amount: moneySchema,
  income_amount: moneySchema.optional(),
  description: z.string().optional(),
  created_at: z.string(),
  captured_at: z.string().optional(),
  test: z.boolean(),
  refundable: z.boolean(),
  // YooKassa echoes our metadata (strings); anything else is compared as text.
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  confirmation: z
    .looseObject({ type: z.string(), confirmation_url: z.string().optional() })
    .optional(),
  cancellation_details: z.looseObject({ party: z.string(), reason: z.string() }).optional(),
});
export type YookassaPayment = z.infer<typeof paymentSchema>;

/** Error bodies (`type: "error"`) and the 202 "still processing" body share these fields. */
export const errorSchema = z.looseObject({
  type: z.string().optional(),
  id: z.string().optional(),
  code: z.string().optional(),
  description: z.string().optional(),
  parameter: z.string().optional(),
  /** Milliseconds to wait before repeating (429, 202). */
  retry_after: z.number().nonnegative().optional(),
});
export type YookassaErrorBody = z.infer<typeof errorSchema>;

export interface ReceiptItem {
  description: string;
  quantity: number;
  amount: Money;
  vat_code: number;
  payment_subject: 'service';
  payment_mode: 'full_payment';
}

/** The body of `POST /v3/payments` as we send it: one-stage, redirect confirmation. */
export interface CreatePaymentRequest {
  amount: Money;
  capture: true;
  confirmation: { type: 'redirect'; return_url: string; locale?: 'ru_RU' | 'en_US' };
  description: string;
  metadata: Record<string, string>;
  receipt?: { customer: { email: string }; items: ReceiptItem[] };
}

/** A YooKassa notification as posted to our webhook; only the object id is used (then re-read). */
export const notificationSchema = z.looseObject({
  type: z.literal('notification'),
  event: z.string().min(1),
  object: z.looseObject({ id: z.string().min(1).max(64) }),
});
export type YookassaNotification = z.infer<typeof notificationSchema>;
