/**
 * A failed MiniMax call. `code` is MiniMax's `base_resp.status_code` as text ("1026"), or
 * one of ours: `HTTP_<status>`, `NETWORK`, `TIMEOUT`, `BAD_RESPONSE`. `retryable` says
 * whether the same call may succeed later (reference/minimax-api.md §9).
 */
const MINIMAX_ERROR = Symbol.for('beem.MinimaxError');

/** Business codes worth retrying with backoff: transient faults and rate limits. */
export const RETRYABLE_CODES = new Set(['1000', '1001', '1002', '1013', '1024', '1033', '1039', '1041', '2045']);

export type MinimaxOperation = 'create' | 'query' | 'retrieve' | 'create_template' | 'query_template';

export class MinimaxError extends Error {
  readonly [MINIMAX_ERROR] = true;
  readonly code: string;
  readonly httpStatus: number | null;
  readonly retryable: boolean;
  readonly operation: MinimaxOperation;
  readonly traceId: string | null;

  constructor(options: {
    code: string;
    message: string;
    operation: MinimaxOperation;
    httpStatus?: number | null;
    retryable?: boolean;
    traceId?: string | null;
    cause?: unknown;
  }) {
    super(`MiniMax ${options.operation} failed: ${options.code} ${options.message}`, { cause: options.cause });
    this.name = 'MinimaxError';
    this.code = options.code;
    this.httpStatus = options.httpStatus ?? null;
    this.operation = options.operation;
    this.traceId = options.traceId ?? null;
    this.retryable = options.retryable ?? isRetryableCode(options.code, this.httpStatus);
  }
}

export function isMinimaxError(err: unknown): err is MinimaxError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[MINIMAX_ERROR] === true;
}

export function isRetryableCode(code: string, httpStatus: number | null): boolean {
  if (RETRYABLE_CODES.has(code)) return true;
  if (code === 'NETWORK' || code === 'TIMEOUT' || code === 'BAD_RESPONSE') return true;
  if (httpStatus !== null && (httpStatus >= 500 || httpStatus === 429 || httpStatus === 408)) return true;
  return false;
}
