/**
 * Request checks of the YooKassa emulator, following the field rules of
 * shared/reference/yookassa-api.md §3, §4 and §6. Each check either returns the parsed
 * value or throws `InvalidRequest` naming the offending parameter, which the emulator
 * turns into YooKassa's `{type:"error", code:"invalid_request", parameter}` body.
 */

export class InvalidRequest extends Error {
  constructor(
    readonly parameter: string,
    description: string,
  ) {
    super(description);
  }
}

export interface Money {
  value: string;
  currency: string;
}

export interface ReceiptItem {
  description: string;
  quantity: number;
  amount: Money;
  vat_code: number;
  payment_subject?: string;
  payment_mode?: string;
}

export interface Receipt {
  customer: { email?: string; phone?: string; full_name?: string; inn?: string };
  items: ReceiptItem[];
}

export interface CreatePaymentRequest {
  amount: Money;
  capture: boolean;
  confirmation: { type: 'redirect'; return_url: string; locale?: string };
  description?: string;
  metadata?: Record<string, string>;
  receipt?: Receipt;
}

export interface CreateRefundRequest {
  payment_id: string;
  amount: Money;
  description?: string;
  receipt?: Receipt;
}

export const CURRENCIES = ['RUB', 'EUR', 'USD', 'KZT', 'BYN', 'UAH', 'UZS', 'TRY', 'INR', 'MDL', 'AZN', 'AMD'];
/** The emulated shop is a Russian test shop: it accepts rubles only. */
export const SHOP_CURRENCY = 'RUB';

const PAYMENT_SUBJECTS = new Set([
  'commodity', 'excise', 'job', 'service', 'gambling_bet', 'gambling_prize', 'lottery', 'lottery_prize',
  'intellectual_activity', 'payment', 'agent_commission', 'property_right', 'non_operating_gain',
  'insurance_premium', 'sales_tax', 'resort_fee', 'composite', 'another', 'fine', 'tax', 'lien', 'cost',
  'pension_insurance_without_payouts', 'pension_insurance_with_payouts', 'health_insurance_without_payouts',
  'health_insurance_with_payouts', 'health_insurance', 'casino', 'agent_withdrawals', 'non_marked_excise',
  'marked_excise', 'marked', 'non_marked',
]);
const PAYMENT_MODES = new Set([
  'full_prepayment', 'partial_prepayment', 'advance', 'full_payment', 'partial_payment', 'credit', 'credit_payment',
]);

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Money as integer kopecks: "1490.00" → 149000. */
export function toKopecks(value: string): number {
  const [rubles, kopecks = '00'] = value.split('.');
  return Number(rubles) * 100 + Number(kopecks.padEnd(2, '0'));
}

export function fromKopecks(kopecks: number): string {
  return `${Math.floor(kopecks / 100)}.${String(kopecks % 100).padStart(2, '0')}`;
}

export function parseMoney(input: unknown, parameter: string): Money {
  if (!isObject(input)) throw new InvalidRequest(parameter, `${parameter} is required`);
  const { value, currency } = input;
  if (typeof value !== 'string') {
    throw new InvalidRequest(`${parameter}.value`, 'Amount value must be a string like "490.00"');
  }
  if (!/^\d{1,10}\.\d{2}$/.test(value)) {
    throw new InvalidRequest(`${parameter}.value`, 'Amount value must have exactly two digits after the decimal point');
  }
  if (toKopecks(value) <= 0) throw new InvalidRequest(`${parameter}.value`, 'Amount value must be greater than zero');
  if (typeof currency !== 'string' || !CURRENCIES.includes(currency)) {
    throw new InvalidRequest(`${parameter}.currency`, 'Unknown currency code');
  }
  if (currency !== SHOP_CURRENCY) {
    throw new InvalidRequest(`${parameter}.currency`, `The shop accepts payments in ${SHOP_CURRENCY} only`);
  }
  return { value, currency };
}

function optionalString(input: Obj, key: string, max: number, parameter = key): string | undefined {
  const value = input[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidRequest(parameter, `${parameter} must be a string`);
  if (value.length > max) throw new InvalidRequest(parameter, `${parameter} must not be longer than ${max} characters`);
  return value;
}

export function parseMetadata(input: unknown): Record<string, string> | undefined {
  if (input === undefined) return undefined;
  if (!isObject(input)) throw new InvalidRequest('metadata', 'metadata must be an object');
  const entries = Object.entries(input);
  if (entries.length > 16) throw new InvalidRequest('metadata', 'metadata may have at most 16 keys');
  for (const [key, value] of entries) {
    if (key.length > 32) throw new InvalidRequest('metadata', `metadata key "${key.slice(0, 40)}" is longer than 32 characters`);
    if (typeof value !== 'string') throw new InvalidRequest(`metadata.${key}`, 'metadata values must be strings');
    if (value.length > 512) throw new InvalidRequest(`metadata.${key}`, 'metadata values must not be longer than 512 characters');
  }
  return input as Record<string, string>;
}

export function parseReceipt(input: unknown, total: Money): Receipt {
  if (!isObject(input)) throw new InvalidRequest('receipt', 'receipt must be an object');
  const customer = input.customer;
  if (!isObject(customer)) throw new InvalidRequest('receipt.customer', 'receipt.customer is required');
  // «Чеки от ЮKassa»: the receipt is e-mailed, so an address is required.
  const email = customer.email;
  if (typeof email !== 'string' || email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw new InvalidRequest('receipt.customer.email', 'A valid customer e-mail is required for the receipt');
  }
  const items = input.items;
  if (!Array.isArray(items) || items.length === 0) throw new InvalidRequest('receipt.items', 'receipt.items is required');
  if (items.length > 80) throw new InvalidRequest('receipt.items', 'A receipt may have at most 80 items');
  let sum = 0;
  const parsed = items.map((raw, i): ReceiptItem => {
    const at = `receipt.items[${i}]`;
    if (!isObject(raw)) throw new InvalidRequest(at, 'Receipt item must be an object');
    const description = raw.description;
    if (typeof description !== 'string' || description.length < 1 || description.length > 128) {
      throw new InvalidRequest(`${at}.description`, 'Item description must be 1 to 128 characters');
    }
    const quantity = raw.quantity;
    if (typeof quantity !== 'number' || !(quantity > 0) || quantity > 99999.999 || Math.round(quantity * 1000) !== quantity * 1000) {
      throw new InvalidRequest(`${at}.quantity`, 'Item quantity must be a positive number with at most 3 decimals');
    }
    const amount = parseMoney(raw.amount, `${at}.amount`);
    if (amount.currency !== total.currency) throw new InvalidRequest(`${at}.amount.currency`, 'Item currency differs from the payment');
    const vat = raw.vat_code;
    if (typeof vat !== 'number' || !Number.isInteger(vat) || vat < 1 || vat > 12) {
      throw new InvalidRequest(`${at}.vat_code`, 'vat_code must be an integer from 1 to 12');
    }
    if (raw.payment_subject !== undefined && !PAYMENT_SUBJECTS.has(raw.payment_subject as string)) {
      throw new InvalidRequest(`${at}.payment_subject`, 'Unknown payment_subject');
    }
    if (raw.payment_mode !== undefined && !PAYMENT_MODES.has(raw.payment_mode as string)) {
      throw new InvalidRequest(`${at}.payment_mode`, 'Unknown payment_mode');
    }
    sum += Math.round(toKopecks(amount.value) * quantity);
    return {
      description,
      quantity,
      amount,
      vat_code: vat,
      payment_subject: raw.payment_subject as string | undefined,
      payment_mode: raw.payment_mode as string | undefined,
    };
  });
  if (sum !== toKopecks(total.value)) {
    throw new InvalidRequest('receipt.items', 'The sum of receipt items does not match the payment amount');
  }
  return { customer: customer as Receipt['customer'], items: parsed };
}

export function parseCreatePayment(body: unknown): CreatePaymentRequest {
  if (!isObject(body)) throw new InvalidRequest('body', 'Request body must be a JSON object');
  const amount = parseMoney(body.amount, 'amount');
  if (body.capture !== undefined && typeof body.capture !== 'boolean') {
    throw new InvalidRequest('capture', 'capture must be a boolean');
  }
  const confirmation = body.confirmation;
  if (!isObject(confirmation)) throw new InvalidRequest('confirmation', 'confirmation is required');
  if (confirmation.type !== 'redirect') {
    throw new InvalidRequest('confirmation.type', 'The sandbox shop supports the redirect confirmation only');
  }
  const returnUrl = confirmation.return_url;
  if (typeof returnUrl !== 'string' || returnUrl.length === 0) {
    throw new InvalidRequest('confirmation.return_url', 'return_url is required for the redirect confirmation');
  }
  if (returnUrl.length > 2048 || !/^https?:\/\//.test(returnUrl)) {
    throw new InvalidRequest('confirmation.return_url', 'return_url must be an absolute URL of at most 2048 characters');
  }
  const description = optionalString(body, 'description', 128);
  const metadata = parseMetadata(body.metadata);
  const receipt = body.receipt === undefined ? undefined : parseReceipt(body.receipt, amount);
  return {
    amount,
    capture: body.capture === true,
    confirmation: { type: 'redirect', return_url: returnUrl, locale: confirmation.locale as string | undefined },
    description,
    metadata,
    receipt,
  };
}

export function parseCreateRefund(body: unknown): CreateRefundRequest {
  if (!isObject(body)) throw new InvalidRequest('body', 'Request body must be a JSON object');
  if (typeof body.payment_id !== 'string' || body.payment_id.length !== 36) {
    throw new InvalidRequest('payment_id', 'payment_id is required');
  }
  const amount = parseMoney(body.amount, 'amount');
  const description = optionalString(body, 'description', 250);
  const receipt = body.receipt === undefined ? undefined : parseReceipt(body.receipt, amount);
  return { payment_id: body.payment_id, amount, description, receipt };
}

/** Optional body of capture: `{ amount }` for a partial capture. */
export function parseCapture(body: unknown): { amount?: Money } {
  if (body === undefined) return {};
  if (!isObject(body)) throw new InvalidRequest('body', 'Request body must be a JSON object');
  return body.amount === undefined ? {} : { amount: parseMoney(body.amount, 'amount') };
}
