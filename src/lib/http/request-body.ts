import type { IncomingMessage } from 'node:http';
import { UPLOAD_REQUEST_LIMIT } from '../uploads/multipart.ts';

/**
 * Every request body has a size and a time limit, enforced by the node server before any
 * route reads it: a declared `Content-Length` over the limit is refused at once, and a
 * chunked body is cut off as soon as it passes the limit or its deadline. Small bodies
 * (JSON, forms, webhooks) are read here, bounded, and handed to the route as a buffer;
 * only the photo upload streams to its route, which counts again while it reads and is
 * bounded in time by the server-wide request timeout.
 */

export const JSON_BODY_LIMIT = 64 * 1024;
export const FORM_BODY_LIMIT = 16 * 1024;

export interface BodyRule {
  limit: number;
  /** Read here whole (small bodies) or streamed to the route (the photo upload). */
  streamed: boolean;
}

/** The rule for a canonical path (see canonical-path.ts). */
export function bodyRuleFor(pathname: string): BodyRule {
  if (pathname === '/api/upload-image') return { limit: UPLOAD_REQUEST_LIMIT, streamed: true };
  // JSON APIs, admin actions (forms or JSON) and both provider webhooks.
  if (pathname.startsWith('/api/') || pathname === '/minimax_callback') return { limit: JSON_BODY_LIMIT, streamed: false };
  return { limit: FORM_BODY_LIMIT, streamed: false };
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
 * Reads at most `limit` bytes within `deadlineMs`. On `too-large` or `timeout` the rest is
 * left unread: the caller answers with `Connection: close`, so the socket is not reused.
 */
export function readBoundedBody(req: IncomingMessage, options: { limit: number; deadlineMs: number }): Promise<BodyReadResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyReadResult) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('aborted', onAbort).off('close', onClose);
      if (result.kind !== 'ok') req.pause();
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
