import type { z } from 'zod';
import type { Logger } from '../../logger.ts';
import {
  errorSchema,
  paymentSchema,
  type CreatePaymentRequest,
  type YookassaErrorBody,
  type YookassaPayment,
} from './schemas.ts';

/**
 * The YooKassa API v3 client (reference/yookassa-api.md): Basic auth, Idempotence-Key on
 * every POST, a timeout per attempt, and the retry rules of §7 — 500, 429, 202 and network
 * failures are repeated with the SAME key (so a lost answer never makes a second payment),
 * honouring `retry_after`; other 4xx are final. Every answer is validated.
 */

export interface YookassaClientOptions {
  apiBase: string;
  shopId: string;
  secretKey: string;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  /** Upper bound of one wait, whatever `retry_after` asks (a user may be waiting). */
  retryMaxDelayMs: number;
  log: Logger;
  sleep?: (ms: number) => Promise<void>;
}

export interface RequestOptions {
  /** Fewer attempts where a quick answer matters more (the webhook: YooKassa retries itself). */
  maxAttempts?: number;
}

export interface YookassaClient {
  createPayment(request: CreatePaymentRequest, idempotenceKey: string, options?: RequestOptions): Promise<YookassaPayment>;
  getPayment(paymentId: string, options?: RequestOptions): Promise<YookassaPayment>;
}

export type YookassaErrorKind =
  /** YooKassa answered with an error status (`code` is theirs: invalid_request, not_found …). */
  | 'http'
  /** No answer: connection failure or timeout. */
  | 'network'
  /** An answer we cannot understand. */
  | 'invalid_response';

const YOOKASSA_ERROR = Symbol.for('beem.YookassaError');

export class YookassaError extends Error {
  readonly [YOOKASSA_ERROR] = true;
  constructor(
    message: string,
    readonly kind: YookassaErrorKind,
    readonly details: {
      operation: string;
      status?: number;
      code?: string;
      parameter?: string;
      /** YooKassa's error id, to quote to their support. */
      errorId?: string;
      /** The outcome is unknown or temporary: asking again later may succeed. */
      transient: boolean;
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'YookassaError';
  }

  get code(): string | undefined {
    return this.details.code;
  }
  get status(): number | undefined {
    return this.details.status;
  }
  get transient(): boolean {
    return this.details.transient;
  }
}

/** Works across bundles (the server and Astro each hold a copy of this module). */
export function isYookassaError(err: unknown): err is YookassaError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[YOOKASSA_ERROR] === true;
}

const RETRYABLE_STATUSES = new Set([202, 429, 500, 502, 503, 504]);
/** Official SDKs wait this long after a 202 without `retry_after`. */
const DEFAULT_202_WAIT_MS = 1800;

export function createYookassaClient(options: YookassaClientOptions): YookassaClient {
  const base = options.apiBase.replace(/\/$/, '');
  const authorization = `Basic ${Buffer.from(`${options.shopId}:${options.secretKey}`).toString('base64')}`;
  const wait = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const log = options.log.child({ mod: 'yookassa' });

  function delayFor(attempt: number, status: number | null, body: YookassaErrorBody | null): number {
    const asked = body?.retry_after ?? (status === 202 ? DEFAULT_202_WAIT_MS : null);
    const backoff = options.retryBaseMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
    return Math.min(asked ?? backoff, options.retryMaxDelayMs);
  }

  async function request<T extends z.ZodType>(
    operation: string,
    method: 'GET' | 'POST',
    path: string,
    schema: T,
    init: { body?: unknown; idempotenceKey?: string; maxAttempts?: number },
  ): Promise<z.infer<T>> {
    const headers: Record<string, string> = { Authorization: authorization, Accept: 'application/json' };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    if (init.idempotenceKey) headers['Idempotence-Key'] = init.idempotenceKey;
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const attempts = Math.max(1, init.maxAttempts ?? options.maxAttempts);

    let last: YookassaError | null = null;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      let status: number | null = null;
      let errorBody: YookassaErrorBody | null = null;
      try {
        const res = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(options.timeoutMs) });
        status = res.status;
        const text = await res.text();
        let parsed: unknown = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          parsed = null;
        }
        if (status === 200) {
          const result = schema.safeParse(parsed);
          if (result.success) return result.data;
          throw new YookassaError(`YooKassa ${operation}: unexpected answer (${result.error.issues[0]?.path.join('.')}: ${result.error.issues[0]?.message})`, 'invalid_response', {
            operation,
            status,
            transient: false,
          });
        }
        const errorResult = errorSchema.safeParse(parsed);
        errorBody = errorResult.success ? errorResult.data : null;
        last = new YookassaError(
          `YooKassa ${operation}: HTTP ${status}${errorBody?.code ? ` ${errorBody.code}` : ''}${errorBody?.description ? `: ${errorBody.description}` : ''}`,
          'http',
          {
            operation,
            status,
            code: errorBody?.code,
            parameter: errorBody?.parameter,
            errorId: errorBody?.id,
            transient: RETRYABLE_STATUSES.has(status),
          },
        );
        if (!RETRYABLE_STATUSES.has(status)) throw last;
      } catch (err) {
        if (err instanceof YookassaError) throw err;
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
        last = new YookassaError(
          `YooKassa ${operation}: ${timedOut ? `no answer within ${options.timeoutMs} ms` : 'connection failed'}`,
          'network',
          { operation, transient: true },
          { cause: err },
        );
      }
      if (attempt < attempts) {
        const delay = delayFor(attempt, status, errorBody);
        log.warn({ operation, attempt, status, code: errorBody?.code, delayMs: Math.round(delay) }, 'YooKassa call will be repeated');
        await wait(delay);
      }
    }
    throw last!;
  }

  return {
    createPayment(payment, idempotenceKey, requestOptions = {}) {
      return request('createPayment', 'POST', '/payments', paymentSchema, {
        body: payment,
        idempotenceKey,
        maxAttempts: requestOptions.maxAttempts,
      });
    },
    getPayment(paymentId, requestOptions = {}) {
      return request('getPayment', 'GET', `/payments/${encodeURIComponent(paymentId)}`, paymentSchema, {
        maxAttempts: requestOptions.maxAttempts,
      });
    },
  };
}
