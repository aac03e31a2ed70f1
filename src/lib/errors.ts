/**
 * Typed errors. Services throw `AppError` with a code; `src/lib/http/respond.ts` is the one
 * place that turns them into HTTP responses, with a message in the user's language from
 * the i18n catalogue (`errors.<CODE>`). Anything that is not an AppError becomes a 500
 * that hides its internals.
 */

const APP_ERROR = Symbol.for('beem.AppError');

export type ErrorParams = Record<string, string | number>;

export interface AppErrorOptions {
  status: number;
  /** The input field at fault, for 400s. */
  field?: string;
  /** Values the message template uses (`{min}`, `{required}` …). */
  params?: ErrorParams;
  /** Extra JSON fields the response carries (the spec's `required`/`current` on 402). */
  details?: Record<string, unknown>;
  /** Seconds, for 429. */
  retryAfter?: number;
  cause?: unknown;
}

export class AppError extends Error {
  readonly [APP_ERROR] = true;
  readonly status: number;
  readonly field?: string;
  readonly params: ErrorParams;
  readonly details: Record<string, unknown>;
  readonly retryAfter?: number;

  constructor(
    readonly code: string,
    options: AppErrorOptions,
  ) {
    super(code, { cause: options.cause });
    this.name = 'AppError';
    this.status = options.status;
    this.field = options.field;
    this.params = options.params ?? {};
    this.details = options.details ?? {};
    this.retryAfter = options.retryAfter;
  }
}

/**
 * Works across bundles: the server entry and Astro's bundle each hold a copy of this module,
 * so `instanceof` would fail for errors thrown by the other copy.
 */
export function isAppError(err: unknown): err is AppError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[APP_ERROR] === true;
}

export const badRequest = (code: string, field?: string, params?: ErrorParams) =>
  new AppError(code, { status: 400, field, params });
export const unauthorized = (code = 'UNAUTHORIZED') => new AppError(code, { status: 401 });
export const forbidden = (code = 'FORBIDDEN') => new AppError(code, { status: 403 });
export const notFound = (code = 'NOT_FOUND') => new AppError(code, { status: 404 });
export const tooManyRequests = (retryAfter: number) =>
  new AppError('RATE_LIMITED', { status: 429, retryAfter, params: { seconds: retryAfter } });
export const insufficientBalance = (required: number, current: number) =>
  new AppError('INSUFFICIENT_BALANCE', {
    status: 402,
    params: { required, current },
    details: { required, current },
  });
