import { randomUUID } from 'node:crypto';

/**
 * The two halves of MiniMax's callback protocol (§4): the challenge handshake made before a
 * task with `callback_url` is accepted, and the status pushes sent on each state change.
 * Neither carries a signature header: the receiver is expected to re-query the task.
 */

export interface PostResult {
  httpStatus: number | null;
  body: unknown;
  error: string | null;
  ms: number;
}

export async function postJson(url: string, body: unknown, timeoutMs: number): Promise<PostResult> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: kept as text for the state view.
    }
    return { httpStatus: response.status, body: parsed, error: null, ms: Date.now() - started };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    const message = timedOut ? `no answer within ${timeoutMs} ms` : err instanceof Error ? err.message : String(err);
    return { httpStatus: null, body: null, error: message, ms: Date.now() - started };
  }
}

export interface ChallengeOutcome {
  value: string;
  passed: boolean;
  httpStatus: number | null;
  error: string | null;
  ms: number;
}

/** POSTs `{"challenge": "<random>"}` and passes only when the same value is echoed in time. */
export async function verifyCallbackUrl(url: string, timeoutMs: number): Promise<ChallengeOutcome> {
  const value = randomUUID();
  const result = await postJson(url, { challenge: value }, timeoutMs);
  const echoed = (result.body as { challenge?: unknown } | null)?.challenge;
  const passed = result.httpStatus === 200 && echoed === value;
  const error = result.error ?? (passed ? null : `expected the challenge echoed, got HTTP ${result.httpStatus}`);
  return { value, passed, httpStatus: result.httpStatus, error, ms: result.ms };
}
