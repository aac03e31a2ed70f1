import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultQueue, readBody, sendHtml, sendJson, sleep, type Emulator, type SandboxRequest } from '../core.ts';
import { SANDBOX_CREDENTIALS } from '../defaults.ts';
import type { SandboxContext } from '../index.ts';
import { DECLINING_TEST_CARDS, renderCheckoutPage } from './checkout-page.ts';
import {
  InvalidRequest,
  fromKopecks,
  parseCapture,
  parseCreatePayment,
  parseCreateRefund,
  toKopecks,
  type Money,
  type Receipt,
} from './validation.ts';

/**
 * YooKassa API v3 emulator (shared/reference/yookassa-api.md), under `/yookassa`:
 *   POST /v3/payments, GET /v3/payments/{id}, POST /v3/payments/{id}/capture|cancel,
 *   POST /v3/refunds, GET /v3/refunds/{id}                       (Basic auth, Idempotence-Key)
 *   GET|POST /checkout/{id}   the confirmation page with "Оплатить" and "Отменить"
 * Settling a payment sends `{type:"notification", event, object}` to the app's webhook.
 * YooKassa promises no order between the buyer's return and the notification: the checkout
 * page sends the buyer back at once and the notification follows a moment later
 * (`notificationDelayMs`), so the return page must find the result by itself.
 *
 * Control (`POST /_sandbox/yookassa/faults`), either a fault for the next calls:
 *   { "fault": { "kind": "http_500" | "http_429" | "http_202" | "succeed_then_500" | "slow", "on"?: op,
 *                "retryAfterMs"?: n, "delayMs"?: n }, "count"?: n }
 *   { "fault": { "kind": "duplicate_notification" | "out_of_order_notification" | "fail_notification"
 *                | "drop_notification" }, "count"?: n }
 *   { "fault": { "kind": "late_notification", "delayMs": n } }      the bank decides late (below)
 *   { "fault": { "kind": "cancel_after_return", "delayMs": n, "reason"?: r } }
 * or an action:
 *   { "action": "pay", "paymentId": id, "card"?: "4111…" }
 *   { "action": "cancel", "paymentId": id, "reason"?: r, "party"?: p }
 *   { "action": "resend_notification", "paymentId": id }
 *   { "action": "advance_clock", "ms": n }        (idempotence keys expire after 24 h, unpaid
 *                                                   payments after an hour, holds after 7 days)
 */

export type Operation = 'create' | 'get' | 'capture' | 'cancel' | 'refund' | 'get_refund';

export type YookassaFault =
  /** The call fails before doing anything; the result is "unknown" to the client. */
  | { kind: 'http_500'; on?: Operation }
  | { kind: 'http_429'; on?: Operation; retryAfterMs?: number }
  /** "Accepted, still processing": the client repeats the same request after `retry_after`. */
  | { kind: 'http_202'; on?: Operation; retryAfterMs?: number }
  /** The operation is done (and remembered under its Idempotence-Key) but the answer is a 500. */
  | { kind: 'succeed_then_500'; on?: Operation }
  | { kind: 'slow'; on?: Operation; delayMs: number }
  /** The next notification is delivered twice. */
  | { kind: 'duplicate_notification' }
  /** After a `payment.succeeded`, a stale `payment.waiting_for_capture` arrives. */
  | { kind: 'out_of_order_notification' }
  /** One delivery attempt is lost on the way (the app never sees it); the emulator retries. */
  | { kind: 'fail_notification' }
  /** The next notification is never sent (the app must find out by itself). */
  | { kind: 'drop_notification' }
  /**
   * The bank decides `delayMs` after the buyer pressed the button (SBP, a slow 3-D Secure):
   * the buyer is back at once, the payment reads `pending` until then, and only then does it
   * settle as the buyer chose and the notification go out.
   */
  | { kind: 'late_notification'; delayMs: number }
  /** The buyer pressed "Pay" and is back; `delayMs` later the payment is canceled after all (anti-fraud). */
  | { kind: 'cancel_after_return'; delayMs: number; reason?: string };

export type YookassaAction =
  | { action: 'pay'; paymentId: string; card?: string }
  | { action: 'cancel'; paymentId: string; reason?: string; party?: string }
  | { action: 'resend_notification'; paymentId: string }
  | { action: 'advance_clock'; ms: number };

export interface YookassaEmulatorOptions {
  shopId?: string;
  secretKey?: string;
  /** Delay between delivery attempts of a notification the app did not accept. */
  notificationRetryMs?: number;
  notificationAttempts?: number;
  /** How long the buyer has to pay before YooKassa cancels with expired_on_confirmation. */
  confirmationWindowMs?: number;
  /** The checkout page's notification follows the buyer's return by this much (default 300 ms). */
  notificationDelayMs?: number;
}

type PaymentStatus = 'pending' | 'waiting_for_capture' | 'succeeded' | 'canceled';

export interface PaymentObject {
  id: string;
  status: PaymentStatus;
  paid: boolean;
  amount: Money;
  income_amount: Money;
  description?: string;
  recipient: { account_id: string; gateway_id: string };
  payment_method?: Record<string, unknown>;
  captured_at?: string;
  created_at: string;
  expires_at?: string;
  confirmation?: { type: 'redirect'; confirmation_url: string; return_url: string };
  test: true;
  refunded_amount?: Money;
  refundable: boolean;
  receipt_registration?: 'pending' | 'succeeded' | 'canceled';
  metadata: Record<string, string>;
  cancellation_details?: { party: string; reason: string };
  authorization_details?: Record<string, unknown>;
}

export interface RefundObject {
  id: string;
  payment_id: string;
  status: 'succeeded';
  amount: Money;
  created_at: string;
  description?: string;
  receipt_registration?: 'succeeded';
}

interface PaymentRecord {
  shopId: string;
  object: PaymentObject;
  capture: boolean;
  returnUrl: string;
  receipt?: Receipt;
  lastEvent?: string;
}

interface StoredResponse {
  hash: string;
  status: number;
  body: unknown;
  createdAt: number;
}

export interface NotificationRecord {
  event: string;
  paymentId: string;
  attempt: number;
  /** The app's HTTP status, or what happened instead. */
  status: number | 'network_error' | 'lost' | 'dropped';
  at: string;
}

const IDEMPOTENCE_TTL_MS = 24 * 60 * 60 * 1000;
const IDEMPOTENCE_KEY = /^[0-9a-zA-Z+\-_.]{1,64}$/;
const GATEWAY_ID = '100700';
/** Commission the emulated shop pays: income_amount = amount − 3.5 %. */
const FEE_RATE = 0.035;

/** Which side cancels for a given reason: bank declines are the payment network's. */
const PARTY_BY_REASON: Record<string, string> = {
  canceled_by_merchant: 'merchant',
  expired_on_confirmation: 'yoo_money',
  expired_on_capture: 'yoo_money',
  fraud_suspected: 'yoo_money',
  internal_timeout: 'yoo_money',
  country_forbidden: 'yoo_money',
};

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

/** Canonical JSON (sorted keys), so the same body written differently hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function yookassaId(): string {
  // Real ids look like 2f3b588d-000f-5000-8000-1d6e87c7fbde.
  const hex = randomBytes(10).toString('hex');
  return `${hex.slice(0, 8)}-000f-5000-${['8', '9', 'a', 'b'][randomBytes(1)[0]! % 4]}000-${hex.slice(8, 20)}`;
}

function errorBody(code: string, description: string, parameter?: string, retryAfterMs?: number) {
  return {
    type: 'error',
    id: randomUUID(),
    code,
    description,
    ...(parameter ? { parameter } : {}),
    ...(retryAfterMs !== undefined ? { retry_after: retryAfterMs } : {}),
  };
}

type ApiFault = Extract<YookassaFault, { on?: Operation }>;
const API_FAULTS = new Set(['http_500', 'http_429', 'http_202', 'succeed_then_500', 'slow']);
const NOTIFICATION_FAULTS = new Set(['duplicate_notification', 'out_of_order_notification', 'fail_notification', 'drop_notification']);
/** Faults of the buyer's decision itself, taken when "Pay" or "Cancel" is pressed. */
const DECISION_FAULTS = new Set(['late_notification', 'cancel_after_return']);
type DecisionFault = Extract<YookassaFault, { kind: 'late_notification' | 'cancel_after_return' }>;

/** A decision the bank makes later (late_notification, cancel_after_return), due at `dueAt` on the emulator's clock. */
interface Deferred {
  record: PaymentRecord;
  dueAt: number;
  run: () => Promise<void>;
  timer: NodeJS.Timeout;
}
const isApiFault = (f: YookassaFault): f is ApiFault => API_FAULTS.has(f.kind);

const notFoundAnswer = (what: string) =>
  new HttpAnswer(404, errorBody('not_found', `${what} doesn't exist or access denied`));

export class YookassaEmulator implements Emulator {
  readonly prefix = '/yookassa';
  private readonly shopId: string;
  private readonly secretKey: string;
  private readonly notificationRetryMs: number;
  private readonly notificationAttempts: number;
  private readonly confirmationWindowMs: number;
  private readonly notificationDelayMs: number;
  private deferred: Deferred[] = [];
  /** When each buyer was sent back from the checkout page (emulator clock, ISO). */
  private returns: Record<string, string> = {};
  private payments = new Map<string, PaymentRecord>();
  private refunds = new Map<string, { shopId: string; object: RefundObject }>();
  private idempotence = new Map<string, StoredResponse>();
  private notifications: NotificationRecord[] = [];
  private faults = new FaultQueue<YookassaFault>();
  private clockOffsetMs = 0;
  private inFlight = new Set<Promise<void>>();
  private apiCalls = new Set<Promise<unknown>>();
  /** Bumped by reset(): notifications still waiting from before it are not sent. */
  private epoch = 0;
  private closed = false;

  constructor(
    private readonly context: SandboxContext,
    options: YookassaEmulatorOptions = {},
  ) {
    this.shopId = options.shopId ?? SANDBOX_CREDENTIALS.yookassaShopId;
    this.secretKey = options.secretKey ?? SANDBOX_CREDENTIALS.yookassaSecretKey;
    this.notificationRetryMs = options.notificationRetryMs ?? 200;
    this.notificationAttempts = options.notificationAttempts ?? 5;
    this.confirmationWindowMs = options.confirmationWindowMs ?? 60 * 60 * 1000;
    this.notificationDelayMs = options.notificationDelayMs ?? 300;
  }

  private now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  private iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  /**
   * Time-driven transitions, applied lazily whenever the emulator is used: an unpaid payment
   * is canceled after the confirmation window, an uncaptured hold after its expires_at.
   */
  private expireOverdue(): void {
    const now = this.now();
    for (const due of this.deferred.filter((d) => d.dueAt <= now)) this.runDeferred(due);
    for (const record of this.payments.values()) {
      if (this.deferred.some((d) => d.record === record)) continue;
      const { object } = record;
      if (object.status === 'pending' && Date.parse(object.created_at) + this.confirmationWindowMs <= now) {
        void this.cancel(record, 'expired_on_confirmation', 'yoo_money');
      } else if (object.status === 'waiting_for_capture' && object.expires_at && Date.parse(object.expires_at) <= now) {
        void this.cancel(record, 'expired_on_capture', 'yoo_money');
      }
    }
  }

  async handle(r: SandboxRequest): Promise<boolean> {
    this.expireOverdue();
    const checkout = /^\/checkout\/([0-9a-f-]{36})$/.exec(r.path);
    if (checkout) {
      await this.handleCheckout(r, checkout[1]!);
      return true;
    }
    if (!r.path.startsWith('/v3/')) return false;
    const call = this.handleApi(r).catch((err: unknown) => {
      if (err instanceof HttpAnswer) return err;
      if (err instanceof InvalidRequest) return new HttpAnswer(400, errorBody('invalid_request', err.message, err.parameter));
      throw err;
    });
    this.apiCalls.add(call);
    const answer = await call.finally(() => this.apiCalls.delete(call));
    sendJson(r.res, answer.status, answer.body);
    return true;
  }

  /**
   * Resolves once every API call received so far has been answered — also one whose client
   * gave up waiting (a `slow` fault), which still creates or replays its payment.
   */
  async callsSettled(): Promise<void> {
    while (this.apiCalls.size > 0) await Promise.allSettled([...this.apiCalls]);
  }

  private async handleApi(r: SandboxRequest): Promise<HttpAnswer> {
    const route = this.route(r.method, r.path);
    if (!route) {
      return /^\/v3\/(payments|refunds)(\/|$)/.test(r.path)
        ? new HttpAnswer(405, errorBody('invalid_request', `Method ${r.method} is not allowed here`))
        : new HttpAnswer(404, errorBody('not_found', 'Unknown API path'));
    }
    this.authenticate(r.req);
    const raw = r.method === 'POST' ? (await readBody(r.req, 1024 * 1024)).toString('utf8') : '';
    if (raw && !(r.req.headers['content-type'] ?? '').includes('application/json')) {
      return new HttpAnswer(415, errorBody('invalid_request', 'Content-Type must be application/json'));
    }

    const fault = this.faults.take((f) => isApiFault(f) && (f.on === undefined || f.on === route.op));
    if (fault?.kind === 'slow') await sleep(fault.delayMs);
    if (fault?.kind === 'http_500') return new HttpAnswer(500, errorBody('internal_server_error', 'Internal server error'));
    if (fault?.kind === 'http_429') {
      return new HttpAnswer(429, errorBody('too_many_requests', 'Too many requests', undefined, fault.retryAfterMs ?? 1000));
    }
    if (fault?.kind === 'http_202') {
      return new HttpAnswer(202, { type: 'processing', description: 'Request accepted, the result is not ready yet', retry_after: fault.retryAfterMs ?? 1800 });
    }

    const answer = r.method === 'POST' ? await this.idempotent(r, raw, () => route.run(raw)) : await route.run(raw);
    if (fault?.kind === 'succeed_then_500') return new HttpAnswer(500, errorBody('internal_server_error', 'Internal server error'));
    return answer;
  }

  private route(method: string, path: string): { op: Operation; run: (raw: string) => Promise<HttpAnswer> | HttpAnswer } | null {
    let m: RegExpExecArray | null;
    if (path === '/v3/payments' && method === 'POST') return { op: 'create', run: (raw) => this.createPayment(parseJson(raw)) };
    if ((m = /^\/v3\/payments\/([^/]+)$/.exec(path)) && method === 'GET') return { op: 'get', run: () => this.getPayment(m![1]!) };
    if ((m = /^\/v3\/payments\/([^/]+)\/capture$/.exec(path)) && method === 'POST') {
      return { op: 'capture', run: (raw) => this.capturePayment(m![1]!, raw ? parseJson(raw) : undefined) };
    }
    if ((m = /^\/v3\/payments\/([^/]+)\/cancel$/.exec(path)) && method === 'POST') {
      return { op: 'cancel', run: () => this.cancelByMerchant(m![1]!) };
    }
    if (path === '/v3/refunds' && method === 'POST') return { op: 'refund', run: (raw) => this.createRefund(parseJson(raw)) };
    if ((m = /^\/v3\/refunds\/([^/]+)$/.exec(path)) && method === 'GET') return { op: 'get_refund', run: () => this.getRefund(m![1]!) };
    return null;
  }

  private authenticate(req: IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    const separator = decoded.indexOf(':');
    const shopId = decoded.slice(0, separator);
    const secret = decoded.slice(separator + 1);
    if (separator < 0 || shopId !== this.shopId || secret !== this.secretKey) {
      throw new HttpAnswer(
        401,
        errorBody('invalid_credentials', 'Authentication by given credentials failed. Check shopId and the secret key.'),
      );
    }
  }

  /**
   * Idempotence-Key rules of reference §2: required, ≤64 chars; the same key with the same
   * body replays the first answer as it was then (not the object as it is now); with another body it is an error; kept for 24 h.
   * A 5xx outcome is not remembered: its result is "unknown", so a repeat must run again.
   */
  private async idempotent(r: SandboxRequest, raw: string, run: () => Promise<HttpAnswer> | HttpAnswer): Promise<HttpAnswer> {
    const key = r.req.headers['idempotence-key'];
    if (typeof key !== 'string' || key.length === 0) {
      return new HttpAnswer(400, errorBody('invalid_request', 'Idempotence-Key header is required', 'Idempotence-Key'));
    }
    if (!IDEMPOTENCE_KEY.test(key)) {
      return new HttpAnswer(
        400,
        errorBody('invalid_request', 'Idempotence-Key must be 1 to 64 characters [0-9a-zA-Z+-_.]', 'Idempotence-Key'),
      );
    }
    this.pruneIdempotence();
    let parsed: unknown = undefined;
    try {
      parsed = raw ? JSON.parse(raw) : undefined;
    } catch {
      parsed = raw;
    }
    const hash = createHash('sha256').update(`${r.method} ${r.path}\n${canonical(parsed)}`).digest('hex');
    const storeKey = `${this.shopId}:${key}`;
    const stored = this.idempotence.get(storeKey);
    if (stored) {
      if (stored.hash !== hash) {
        return new HttpAnswer(400, errorBody('invalid_request', 'Idempotence key duplicated', 'Idempotence-Key'));
      }
      return new HttpAnswer(stored.status, structuredClone(stored.body));
    }
    let answer: HttpAnswer;
    try {
      answer = await run();
    } catch (err) {
      if (err instanceof InvalidRequest) answer = new HttpAnswer(400, errorBody('invalid_request', err.message, err.parameter));
      else if (err instanceof HttpAnswer) answer = err;
      else throw err;
    }
    // A snapshot: the payment object lives on and changes (paid, canceled), but a replay of
    // the same key answers what the first request answered (reference §2).
    if (answer.status < 500) this.idempotence.set(storeKey, { hash, status: answer.status, body: structuredClone(answer.body), createdAt: this.now() });
    return answer;
  }

  private pruneIdempotence(): void {
    const cutoff = this.now() - IDEMPOTENCE_TTL_MS;
    for (const [key, stored] of this.idempotence) if (stored.createdAt <= cutoff) this.idempotence.delete(key);
  }

  private ownPayment(id: string): PaymentRecord {
    const record = this.payments.get(id);
    if (!record || record.shopId !== this.shopId) throw notFoundAnswer('Payment');
    return record;
  }

  private createPayment(body: unknown): HttpAnswer {
    const request = parseCreatePayment(body);
    const id = yookassaId();
    const kopecks = toKopecks(request.amount.value);
    const object: PaymentObject = {
      id,
      status: 'pending',
      paid: false,
      amount: request.amount,
      income_amount: { value: fromKopecks(Math.round(kopecks * (1 - FEE_RATE))), currency: request.amount.currency },
      ...(request.description !== undefined ? { description: request.description } : {}),
      recipient: { account_id: this.shopId, gateway_id: GATEWAY_ID },
      created_at: this.iso(),
      confirmation: {
        type: 'redirect',
        confirmation_url: `${this.context.baseUrl}${this.prefix}/checkout/${id}`,
        return_url: request.confirmation.return_url,
      },
      test: true,
      refundable: false,
      metadata: request.metadata ?? {},
      ...(request.receipt ? { receipt_registration: 'pending' as const } : {}),
    };
    this.payments.set(id, {
      shopId: this.shopId,
      object,
      capture: request.capture,
      returnUrl: request.confirmation.return_url,
      receipt: request.receipt,
    });
    return new HttpAnswer(200, object);
  }

  private getPayment(id: string): HttpAnswer {
    return new HttpAnswer(200, this.ownPayment(id).object);
  }

  private capturePayment(id: string, body: unknown): HttpAnswer {
    const record = this.ownPayment(id);
    const { amount } = parseCapture(body);
    if (record.object.status !== 'waiting_for_capture') {
      throw new InvalidRequest('payment_id', `Payment is in status ${record.object.status}; only waiting_for_capture can be captured`);
    }
    if (amount && toKopecks(amount.value) > toKopecks(record.object.amount.value)) {
      throw new InvalidRequest('amount.value', 'Capture amount exceeds the authorised amount');
    }
    void this.succeed(record, amount);
    return new HttpAnswer(200, record.object);
  }

  private cancelByMerchant(id: string): HttpAnswer {
    const record = this.ownPayment(id);
    if (record.object.status !== 'waiting_for_capture') {
      throw new InvalidRequest('payment_id', `Payment is in status ${record.object.status}; only waiting_for_capture can be canceled`);
    }
    void this.cancel(record, 'canceled_by_merchant', 'merchant');
    return new HttpAnswer(200, record.object);
  }

  private createRefund(body: unknown): HttpAnswer {
    const request = parseCreateRefund(body);
    const record = this.payments.get(request.payment_id);
    if (!record || record.shopId !== this.shopId) throw notFoundAnswer('Payment');
    if (record.object.status !== 'succeeded') {
      throw new InvalidRequest('payment_id', 'Only a succeeded payment can be refunded');
    }
    const refunded = toKopecks(record.object.refunded_amount?.value ?? '0.00');
    const requested = toKopecks(request.amount.value);
    if (refunded + requested > toKopecks(record.object.amount.value)) {
      throw new InvalidRequest('amount.value', 'Refund amount exceeds the amount left to refund');
    }
    if (record.receipt && !request.receipt) throw new InvalidRequest('receipt', 'A receipt is required for this refund');
    const refund: RefundObject = {
      id: yookassaId(),
      payment_id: record.object.id,
      status: 'succeeded',
      amount: request.amount,
      created_at: this.iso(),
      ...(request.description !== undefined ? { description: request.description } : {}),
      ...(request.receipt ? { receipt_registration: 'succeeded' as const } : {}),
    };
    this.refunds.set(refund.id, { shopId: this.shopId, object: refund });
    const total = refunded + requested;
    record.object.refunded_amount = { value: fromKopecks(total), currency: record.object.amount.currency };
    record.object.refundable = total < toKopecks(record.object.amount.value);
    void this.track(this.notify('refund.succeeded', record.object.id, refund));
    return new HttpAnswer(200, refund);
  }

  private getRefund(id: string): HttpAnswer {
    const refund = this.refunds.get(id);
    if (!refund || refund.shopId !== this.shopId) throw notFoundAnswer('Refund');
    return new HttpAnswer(200, refund.object);
  }

  /** The buyer paid: one-stage payments succeed, two-stage ones wait for capture. */
  private pay(record: PaymentRecord, card = '5555555555554477', notifyDelayMs = 0): Promise<void> {
    const digits = card.replace(/\D/g, '');
    const declined = DECLINING_TEST_CARDS[digits];
    if (declined) return this.cancel(record, declined, 'payment_network', notifyDelayMs);
    const object = record.object;
    object.paid = true;
    delete object.confirmation;
    object.payment_method = {
      type: 'bank_card',
      id: record.object.id,
      saved: false,
      title: `Bank card *${digits.slice(-4)}`,
      card: {
        first6: digits.slice(0, 6),
        last4: digits.slice(-4),
        expiry_month: '12',
        expiry_year: String(new Date(this.now()).getUTCFullYear() + 3),
        card_type: digits.startsWith('4') ? 'Visa' : digits.startsWith('22') ? 'Mir' : 'MasterCard',
        issuer_country: 'RU',
      },
    };
    object.authorization_details = { rrn: String(Date.now()).slice(-12), auth_code: '000000', three_d_secure: { applied: true } };
    if (record.capture) return this.succeed(record, undefined, notifyDelayMs);
    object.status = 'waiting_for_capture';
    object.expires_at = this.iso(this.now() + 7 * 24 * 60 * 60 * 1000);
    return this.track(this.notify('payment.waiting_for_capture', object.id, object, notifyDelayMs));
  }

  private succeed(record: PaymentRecord, amount?: Money, notifyDelayMs = 0): Promise<void> {
    const object = record.object;
    if (amount) {
      object.amount = amount;
      object.income_amount = { value: fromKopecks(Math.round(toKopecks(amount.value) * (1 - FEE_RATE))), currency: amount.currency };
    }
    object.status = 'succeeded';
    object.paid = true;
    object.captured_at = this.iso();
    delete object.expires_at;
    object.refundable = true;
    object.refunded_amount = { value: '0.00', currency: object.amount.currency };
    if (record.receipt) object.receipt_registration = 'succeeded';
    return this.track(this.notify('payment.succeeded', object.id, object, notifyDelayMs));
  }

  private cancel(record: PaymentRecord, reason: string, party?: string, notifyDelayMs = 0): Promise<void> {
    const object = record.object;
    object.status = 'canceled';
    object.paid = false;
    delete object.confirmation;
    delete object.expires_at;
    object.refundable = false;
    object.cancellation_details = { party: party ?? PARTY_BY_REASON[reason] ?? 'payment_network', reason };
    if (record.receipt) object.receipt_registration = 'canceled';
    return this.track(this.notify('payment.canceled', object.id, object, notifyDelayMs));
  }

  /**
   * What the buyer chose on the page (or a test through `act`), with the decision faults: a
   * late bank settles it later, an anti-fraud check cancels a paid one later; otherwise
   * `choice` settles it now (and notifies after its own delay).
   */
  private decide(record: PaymentRecord, choice: () => Promise<void>): Promise<void> {
    const fault = this.faults.take((f) => DECISION_FAULTS.has(f.kind)) as DecisionFault | null;
    if (!fault) return choice();
    const run =
      fault.kind === 'late_notification'
        ? choice
        : () => this.cancel(record, fault.reason ?? 'fraud_suspected');
    const due: Deferred = {
      record,
      dueAt: this.now() + fault.delayMs,
      run,
      timer: setTimeout(() => this.runDeferred(due), fault.delayMs).unref(),
    };
    this.deferred.push(due);
    return Promise.resolve();
  }

  private runDeferred(due: Deferred): void {
    if (!this.deferred.includes(due)) return;
    clearTimeout(due.timer);
    this.deferred = this.deferred.filter((d) => d !== due);
    if (this.closed || due.record.object.status !== 'pending') return;
    void due.run();
  }

  private track(delivery: Promise<void>): Promise<void> {
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
    return delivery;
  }

  /** Resolves once every notification sent so far reached the app or gave up. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Sends one notification with the object as it is now, honouring the notification faults,
   * and retries a delivery the app did not accept (as YooKassa does for 24 h).
   */
  private async notify(event: string, paymentId: string, object: object, delayMs = 0): Promise<void> {
    const record = this.payments.get(paymentId);
    if (record && event.startsWith('payment.')) record.lastEvent = event;
    // Taken at once, so the fault applies to this notification and not to a later one.
    if (this.faults.take((f) => f.kind === 'drop_notification')) {
      this.notifications.push({ event, paymentId, attempt: 0, status: 'dropped', at: this.iso() });
      return;
    }
    const snapshot = JSON.parse(JSON.stringify(object)) as Record<string, unknown>;
    const copies = this.faults.take((f) => f.kind === 'duplicate_notification') ? 2 : 1;
    const stale = event === 'payment.succeeded' && this.faults.take((f) => f.kind === 'out_of_order_notification');
    const epoch = this.epoch;
    if (delayMs > 0) await sleep(delayMs);
    if (epoch !== this.epoch) return;
    for (let i = 0; i < copies; i += 1) await this.deliver(event, paymentId, snapshot);
    if (stale) {
      const { captured_at: _captured, refunded_amount: _refunded, ...rest } = snapshot;
      await this.deliver('payment.waiting_for_capture', paymentId, {
        ...rest,
        status: 'waiting_for_capture',
        paid: true,
        refundable: false,
        expires_at: this.iso(this.now() + 7 * 24 * 60 * 60 * 1000),
      });
    }
  }

  private async deliver(event: string, paymentId: string, object: Record<string, unknown>): Promise<void> {
    const url = `${this.context.appUrl}/api/payments/yookassa/webhook`;
    for (let attempt = 1; attempt <= this.notificationAttempts; attempt += 1) {
      if (attempt > 1) await sleep(this.notificationRetryMs);
      if (this.closed) return;
      let status: NotificationRecord['status'];
      if (this.faults.take((f) => f.kind === 'fail_notification')) {
        status = 'lost';
      } else {
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': 'YooKassa sandbox' },
            body: JSON.stringify({ type: 'notification', event, object }),
            signal: AbortSignal.timeout(10_000),
          });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          status = 'network_error';
        }
      }
      this.notifications.push({ event, paymentId, attempt, status, at: this.iso() });
      if (status === 200) return;
    }
  }

  private async handleCheckout(r: SandboxRequest, id: string): Promise<void> {
    const record = this.payments.get(id);
    if (!record) {
      sendHtml(r.res, 404, '<!doctype html><html lang="ru"><meta charset="utf-8"><p>Платёж не найден.</p></html>');
      return;
    }
    if (r.method === 'POST') {
      const form = new URLSearchParams((await readBody(r.req, 64 * 1024)).toString('utf8'));
      if (record.object.status === 'pending' && !this.deciding(record)) {
        const delay = this.notificationDelayMs;
        if (form.get('action') === 'pay') void this.decide(record, () => this.pay(record, form.get('card') ?? undefined, delay));
        else if (form.get('action') === 'cancel') void this.decide(record, () => this.cancel(record, form.get('reason') || 'expired_on_confirmation', undefined, delay));
      }
      // The buyer goes back at once; the notification (if any) follows on its own.
      this.returns[id] = this.iso();
      redirect(r.res, record.returnUrl);
      return;
    }
    if (r.method !== 'GET') {
      sendHtml(r.res, 405, '<!doctype html><p>Method not allowed</p>');
      return;
    }
    sendHtml(
      r.res,
      200,
      renderCheckoutPage({
        paymentId: id,
        shopId: record.shopId,
        amountValue: record.object.amount.value,
        currency: record.object.amount.currency,
        description: record.object.description ?? null,
        status: this.deciding(record) ? 'processing' : record.object.status,
        returnUrl: record.returnUrl,
      }),
    );
  }

  /** Settles a payment the way the checkout page does, for tests without a browser. */
  async act(action: YookassaAction): Promise<void> {
    if (action.action === 'advance_clock') {
      this.clockOffsetMs += action.ms;
      this.expireOverdue();
      await this.settled();
      return;
    }
    const record = this.payments.get(action.paymentId);
    if (!record) throw new Error(`unknown payment ${action.paymentId}`);
    if (action.action === 'resend_notification') {
      const event = record.lastEvent ?? `payment.${record.object.status}`;
      await this.track(this.notify(event, record.object.id, record.object));
      return;
    }
    if (record.object.status !== 'pending' || this.deciding(record)) {
      throw new Error(`payment ${action.paymentId} is already ${this.deciding(record) ? 'being decided' : record.object.status}`);
    }
    // No browser to send back, so nothing to race: settled and notified at once.
    if (action.action === 'pay') await this.decide(record, () => this.pay(record, action.card));
    else await this.decide(record, () => this.cancel(record, action.reason ?? 'expired_on_confirmation', action.party));
  }

  private deciding(record: PaymentRecord): boolean {
    return this.deferred.some((d) => d.record === record);
  }

  async injectFault(body: unknown): Promise<void> {
    if (!body || typeof body !== 'object') throw new Error('expected {fault, count} or {action, …}');
    const input = body as Record<string, unknown>;
    if (typeof input.action === 'string') {
      if (!['pay', 'cancel', 'resend_notification', 'advance_clock'].includes(input.action)) {
        throw new Error('unknown action; expected pay, cancel, resend_notification or advance_clock');
      }
      await this.act(input as unknown as YookassaAction);
      return;
    }
    const fault = (input.fault ?? input) as YookassaFault;
    const kinds = [...API_FAULTS, ...NOTIFICATION_FAULTS, ...DECISION_FAULTS];
    if (!fault || !kinds.includes(fault.kind)) throw new Error(`unknown fault kind; expected one of ${kinds.join(', ')}`);
    if ((fault.kind === 'slow' || DECISION_FAULTS.has(fault.kind)) && !(typeof (fault as { delayMs?: unknown }).delayMs === 'number' && (fault as { delayMs: number }).delayMs >= 0)) {
      throw new Error(`${fault.kind} needs delayMs`);
    }
    const count = typeof input.count === 'number' && input.count > 0 ? input.count : 1;
    this.faults.add(fault, count);
  }

  state() {
    return {
      shopId: this.shopId,
      payments: [...this.payments.values()].map((p) => p.object),
      /** 54-FZ receipt data as sent with each payment (payment id → receipt). */
      receipts: Object.fromEntries([...this.payments.values()].filter((p) => p.receipt).map((p) => [p.object.id, p.receipt])),
      refunds: [...this.refunds.values()].map((r) => r.object),
      idempotenceKeys: this.idempotence.size,
      notifications: this.notifications,
      /** Payment id → when the checkout page sent its buyer back. */
      returns: this.returns,
      /** Decisions the bank makes later (late_notification, cancel_after_return). */
      deferred: this.deferred.map((d) => ({ paymentId: d.record.object.id, dueAt: this.iso(d.dueAt) })),
      pendingFaults: this.faults.pending(),
    };
  }

  /** The sandbox is closing: stop retrying notifications and wait for those on the wire. */
  async close(): Promise<void> {
    this.closed = true;
    this.dropDeferred();
    await this.settled();
  }

  private dropDeferred(): void {
    for (const due of this.deferred) clearTimeout(due.timer);
    this.deferred = [];
  }

  reset(): void {
    this.epoch += 1;
    this.dropDeferred();
    this.returns = {};
    this.payments.clear();
    this.refunds.clear();
    this.idempotence.clear();
    this.notifications = [];
    this.faults.clear();
    this.clockOffsetMs = 0;
  }
}

function parseJson(raw: string): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidRequest('body', 'Request body is not valid JSON');
  }
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { Location: location, 'Content-Length': 0 });
  res.end();
}

export function createYookassaEmulator(context: SandboxContext, options?: YookassaEmulatorOptions): YookassaEmulator {
  return new YookassaEmulator(context, options);
}
