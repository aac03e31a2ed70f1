import type { APIContext } from 'astro';
import type { z } from 'zod';
import { AppError, badRequest, isAppError } from '../errors.ts';
import { t, type Locale } from '../i18n/index.ts';
import type { Logger } from '../logger.ts';
import { parseInput } from '../parse-input.ts';
import { normalizeTextInput } from './text-input.ts';

export function json(data: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set('Content-Type', 'application/json; charset=utf-8');
  headers.set('Cache-Control', 'no-store');
  return new Response(JSON.stringify(data), { ...init, headers });
}

/** The error body every API answers with: a code for programs, a sentence for people. */
export interface ErrorBody {
  success: false;
  code: string;
  error: string;
  field?: string;
  [detail: string]: unknown;
}

export function errorBody(err: AppError, locale: Locale): ErrorBody {
  const params = { ...err.params, ...(err.field ? { field: err.field } : {}) };
  return { success: false, code: err.code, error: t(locale, `errors.${err.code}`, params), ...(err.field ? { field: err.field } : {}), ...err.details };
}

/** Typed errors keep their status and message; anything else is a 500 that reveals nothing. */
export function errorResponse(err: unknown, locale: Locale, log: Logger): Response {
  const appError = isAppError(err) ? err : new AppError('INTERNAL', { status: 500, cause: err });
  if (appError.status >= 500) log.error({ err }, 'request failed');
  const headers: Record<string, string> = {};
  if (appError.retryAfter !== undefined) headers['Retry-After'] = String(appError.retryAfter);
  return json(errorBody(appError, locale), { status: appError.status, headers });
}

/** Wraps an API route so thrown errors become the standard error response. */
export function apiRoute(handler: (context: APIContext) => Promise<Response> | Response) {
  return async (context: APIContext): Promise<Response> => {
    try {
      return await handler(context);
    } catch (err) {
      return errorResponse(err, context.locals.locale, context.locals.log);
    }
  };
}

/** A JSON body with its text normalised (see text-input.ts); unreadable JSON is a 400. */
export async function readJsonBody(request: Request): Promise<unknown> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw badRequest('INVALID_JSON');
  }
  return normalizeTextInput(body);
}

/** Parses a JSON body with a zod schema; a bad body is a 400 naming the first bad field. */
export async function readJson<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  return parseInput(schema, await readJsonBody(request));
}
