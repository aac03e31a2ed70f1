import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOCALE_COOKIE, resolveLocale, t, type Locale } from '../i18n/index.ts';
import { readCookie } from './node-auth.ts';

/**
 * Answers written by the node server itself (node routes and the edge checks that run
 * before Astro), in the same shapes as the Astro API routes: JSON, `no-store`, and the
 * standard error body in the visitor's language. Security headers are already on `res`
 * (the server sets them before any route runs).
 */

export function localeOfNodeRequest(req: IncomingMessage): Locale {
  return resolveLocale(readCookie(req.headers.cookie, LOCALE_COOKIE) ?? undefined, req.headers['accept-language'] ?? null);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** `{success: false, code, error}` with the message for `errors.<code>`. */
export function sendNodeError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { success: false, code, error: t(localeOfNodeRequest(req), `errors.${code}`) }, headers);
}
