import type { IncomingMessage } from 'node:http';
import { UPLOAD_REQUEST_LIMIT } from './multipart.ts';

/**
 * Every request body has a size and a time limit, enforced by the node server before any
 * route runs: a declared `Content-Length` over the limit is refused at once, and a chunked
 * body is cut off as soon as it passes the limit or its deadline. The body is read here,
 * as the socket's own buffers (no copies), and handed to the route whole — so a body over
 * its limit never costs more than the limit, whatever the route would have done with it.
 */

export const JSON_BODY_LIMIT = 64 * 1024;
export const FORM_BODY_LIMIT = 16 * 1024;

export interface BodyRule {
  limit: number;
  /** Small bodies must arrive within seconds; a photo may take minutes on a slow line. */
  deadlineMs: number;
}

/** The rule for a canonical path (see canonical-path.ts). */
export function bodyRuleFor(pathname: string, timeouts: { bodyTimeoutMs: number; requestTimeoutMs: number }): BodyRule {
  if (pathname === '/api/upload-image') return { limit: UPLOAD_REQUEST_LIMIT, deadlineMs: timeouts.requestTimeoutMs };
  // JSON APIs, admin actions (forms or JSON) and both provider webhooks.
  if (pathname.startsWith('/api/') || pathname === '/minimax_callback') return { limit: JSON_BODY_LIMIT, deadlineMs: timeouts.bodyTimeoutMs };
  return { limit: FORM_BODY_LIMIT, deadlineMs: timeouts.bodyTimeoutMs };
}

export function hasRequestBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

export function declaredLength(req: IncomingMessage): number | null {
  const raw = req.headers['content-length'];
  if (raw === undefined) return null;
  const value = Number(raw);
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}

export type BodyReadResult =
  | { kind: 'ok'; body: Buffer }
  | { kind: 'too-large' }
  | { kind: 'timeout' }
  | { kind: 'aborted' };

/**
 * Reads at most `limit` bytes within `deadlineMs`. What comes after a `too-large` is
 * discarded by Node once the answer is sent; after a `timeout` the caller closes the
 * connection.
 */
export function readBoundedBody(req: IncomingMessage, options: BodyRule): Promise<BodyReadResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyReadResult) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('aborted', onAbort).off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.limit) return finish({ kind: 'too-large' });
      chunks.push(chunk);
    };
    const onEnd = () => finish({ kind: 'ok', body: Buffer.concat(chunks, size) });
    const onAbort = () => finish({ kind: 'aborted' });
    const onClose = () => {
      if (!req.complete) finish({ kind: 'aborted' });
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), options.deadlineMs);
    req.on('data', onData).on('end', onEnd).on('error', onAbort).on('aborted', onAbort).on('close', onClose);
  });
}

/**
 * Hands an already read body to `@astrojs/node`, which streams `req.body` when it is an
 * async iterable (an async generator has no own keys, so it is not JSON-encoded instead).
 */
export function attachReadBody(req: IncomingMessage, body: Buffer): void {
  (req as IncomingMessage & { body?: AsyncIterable<Buffer> }).body = (async function* () {
    if (body.length > 0) yield body;
  })();
}
