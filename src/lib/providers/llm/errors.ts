import OpenAI from 'openai';

/**
 * Why a model call failed, in words an operator acts on. `message` is stable for the
 * same cause (no request ids, no timings that vary) because alerts are de-duplicated
 * by `stage::error` and the same outage must count as one alert a minute.
 */
export type LlmErrorKind =
  | 'timeout'
  | 'connection'
  | 'rate_limit'
  | 'quota'
  | 'auth'
  | 'forbidden'
  | 'bad_request'
  | 'not_found'
  | 'server'
  | 'refusal'
  | 'truncated'
  | 'invalid_json'
  | 'invalid_output';

export interface LlmErrorDetails {
  status?: number | null;
  code?: string | null;
  requestId?: string | null;
  cause?: unknown;
}

const LLM_ERROR = Symbol.for('beem.LlmError');

export class LlmError extends Error {
  readonly [LLM_ERROR] = true;
  readonly status: number | null;
  readonly code: string | null;
  readonly requestId: string | null;

  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    details: LlmErrorDetails = {},
  ) {
    super(message, { cause: details.cause });
    this.name = 'LlmError';
    this.status = details.status ?? null;
    this.code = details.code ?? null;
    this.requestId = details.requestId ?? null;
  }

  /** The model is unreachable or unusable for a while: another call now would fail the same way. */
  get unavailable(): boolean {
    return ['timeout', 'connection', 'quota', 'auth', 'forbidden', 'not_found'].includes(this.kind);
  }
}

/** Works across bundles, like `isAppError`. */
export function isLlmError(err: unknown): err is LlmError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[LLM_ERROR] === true;
}

/** Maps whatever the SDK threw to an `LlmError`. `timeoutMs` is the budget the call had. */
export function toLlmError(err: unknown, timeoutMs: number): LlmError {
  if (isLlmError(err)) return err;
  // Our own AbortSignal.timeout surfaces as a user abort; both mean the budget ran out.
  if (err instanceof OpenAI.APIConnectionTimeoutError || err instanceof OpenAI.APIUserAbortError) {
    return new LlmError('timeout', `timeout (no answer within ${timeoutMs} ms)`, { cause: err });
  }
  if (err instanceof OpenAI.APIConnectionError) {
    const reason = err.cause instanceof Error ? err.cause.message : err.message;
    return new LlmError('connection', `connection failed: ${reason}`, { cause: err });
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? null;
    const code = typeof err.code === 'string' ? err.code : null;
    const details = { status, code, requestId: err.requestID ?? null, cause: err };
    const tag = `HTTP ${status ?? '?'}${code ? ` ${code}` : ''}`;
    if (status === 429 && (code === 'insufficient_quota' || err.type === 'insufficient_quota')) {
      return new LlmError('quota', `quota exceeded (${tag}): top up the model account`, details);
    }
    if (status === 429) return new LlmError('rate_limit', `rate limit exceeded (${tag})`, details);
    if (status === 401) return new LlmError('auth', `API key rejected (${tag}): check OPENAI_API_KEY`, details);
    if (status === 403) return new LlmError('forbidden', `access denied (${tag}): region or account not allowed`, details);
    if (status === 404) return new LlmError('not_found', `model or endpoint not found (${tag}): check OPENAI_MODEL and OPENAI_BASE_URL`, details);
    if (status !== null && status >= 500) return new LlmError('server', `API error (${tag})`, details);
    return new LlmError('bad_request', `request rejected (${tag}): ${err.error ? firstLine(JSON.stringify(err.error)) : err.message}`, details);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new LlmError('connection', `call failed: ${firstLine(message)}`, { cause: err });
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 300);
}
