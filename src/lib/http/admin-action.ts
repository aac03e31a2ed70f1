import type { APIContext } from 'astro';
import type { z } from 'zod';
import type { User } from '../auth/users.ts';
import { badRequest, isAppError } from '../errors.ts';
import { parseInput } from '../parse-input.ts';
import { errorResponse, json } from './respond.ts';
import { requireAdmin } from '../auth/guards.ts';
import { safeNextPath } from '../auth/signin-state.ts';
import { normalizeText, normalizeTextInput } from './text-input.ts';
import { adminActor } from '../admin/access.ts';
import type { Actor } from '../admin/audit.ts';
import type { Locale } from '../i18n/index.ts';

/**
 * Admin actions are POST endpoints under `/api/admin/` that serve two callers:
 * - the admin pages' plain HTML forms (no script needed): the answer is a 303 back to the
 *   page (`returnTo`) with `?notice=<key>` or `?error=<CODE>`, shown there as a banner;
 * - programs sending JSON: the answer is JSON, errors in the standard error body.
 * The Origin check of the middleware covers both. The caller must be an admin (401/403
 * otherwise, for both kinds).
 */

export interface AdminActionContext {
  /** The composition root, as the middleware put it on `locals`. */
  ctx: App.Locals['ctx'];
  admin: User;
  actor: Actor;
  locale: Locale;
  params: Record<string, string | undefined>;
  /** The form's one-time key (`requestKey` field) or the `Idempotency-Key` header, scoped to this admin, action and target. */
  requestKey: string | null;
}

export interface AdminActionResult {
  /** `admin.notice.<key>` is the banner text on the page. */
  notice: string;
  /** Values for the banner's `{placeholders}`. */
  noticeParams?: Record<string, string | number>;
  /** The JSON answer (besides `success` and `notice`). */
  data?: Record<string, unknown>;
}

function isForm(request: Request): boolean {
  const type = request.headers.get('content-type') ?? '';
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data');
}

async function readBody(request: Request): Promise<Record<string, unknown>> {
  if (isForm(request)) {
    const form = await request.formData().catch(() => {
      throw badRequest('INVALID_JSON');
    });
    const out: Record<string, unknown> = {};
    for (const [key, value] of form) if (typeof value === 'string') out[key] = normalizeText(value);
    return out;
  }
  const text = await request.text();
  if (!text.trim()) return {};
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('INVALID_JSON');
    return normalizeTextInput(body) as Record<string, unknown>;
  } catch (err) {
    if (isAppError(err)) throw err;
    throw badRequest('INVALID_JSON');
  }
}

/** Only our own admin pages: a same-origin path under /admin, checked after normalising. */
export function safeReturnTo(value: unknown, fallback: string): string {
  if (typeof value !== 'string') return fallback;
  const path = safeNextPath(value, '');
  return path === '/admin' || path.startsWith('/admin/') || path.startsWith('/admin?') ? path : fallback;
}

function redirectWith(path: string, params: Record<string, string | number>): Response {
  const url = new URL(path, 'http://x');
  for (const key of [...url.searchParams.keys()]) if (key === 'notice' || key === 'error' || key.startsWith('n_')) url.searchParams.delete(key);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
  return new Response(null, { status: 303, headers: { Location: `${url.pathname}${url.search}`, 'Cache-Control': 'no-store' } });
}

/**
 * Wraps one admin action: guard, input (form or JSON, checked by `schema`), the service
 * call, and the answer in the caller's format.
 */
export function adminAction<S extends z.ZodType>(
  options: { schema: S; fallbackReturn: (params: Record<string, string | undefined>) => string },
  handler: (input: z.infer<S>, context: AdminActionContext) => Promise<AdminActionResult> | AdminActionResult,
) {
  return async (context: APIContext): Promise<Response> => {
    const { locals, request, params } = context;
    const form = isForm(request);
    let returnTo = options.fallbackReturn(params);
    try {
      const admin = requireAdmin(locals);
      const body = await readBody(request);
      returnTo = safeReturnTo(body.returnTo, returnTo);
      const headerKey = request.headers.get('idempotency-key');
      const rawKey = typeof body.requestKey === 'string' && body.requestKey ? body.requestKey : headerKey;
      // One key, one action on one target by one admin: the same key sent to another
      // user's balance is a new request, not a replay of the first.
      const requestKey = rawKey && /^[A-Za-z0-9_-]{8,100}$/.test(rawKey) ? `${admin.id}:${context.url.pathname}:${rawKey}` : null;
      const input = parseInput(options.schema, body);
      const result = await handler(input, { ctx: locals.ctx, admin, actor: adminActor(admin), locale: locals.locale, params, requestKey });
      if (form) {
        const noticeParams = Object.fromEntries(Object.entries(result.noticeParams ?? {}).map(([k, v]) => [`n_${k}`, v]));
        return redirectWith(returnTo, { notice: result.notice, ...noticeParams });
      }
      return json({ success: true, notice: result.notice, ...result.data });
    } catch (err) {
      const status = isAppError(err) ? err.status : 500;
      // Access errors keep their status for every caller; a form sees other errors on its page.
      if (form && status !== 401 && status !== 403) {
        if (status >= 500) locals.log.error({ err, path: context.url.pathname }, 'admin action failed');
        return redirectWith(returnTo, { error: isAppError(err) ? err.code : 'INTERNAL' });
      }
      return errorResponse(err, locals.locale, locals.log);
    }
  };
}

/** A read-only admin JSON endpoint. */
export function adminRead(handler: (context: APIContext, admin: User) => Promise<unknown> | unknown) {
  return async (context: APIContext): Promise<Response> => {
    try {
      const admin = requireAdmin(context.locals);
      return json(await handler(context, admin));
    } catch (err) {
      return errorResponse(err, context.locals.locale, context.locals.log);
    }
  };
}
