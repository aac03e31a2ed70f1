/**
 * How page scripts talk to our API: JSON in and out, the server's own sentence on errors,
 * and a session that ran out sends the user to sign in and back to where they were.
 */

export const BALANCE_EVENT = 'beem:balance';

/** Tells the header (and anything else listening) that the balance changed. */
export function announceBalance(balance: number): void {
  window.dispatchEvent(new CustomEvent<number>(BALANCE_EVENT, { detail: balance }));
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** No answer at all: offline, DNS, the server restarting. Worth retrying quietly. */
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

export interface ApiOptions {
  method?: 'GET' | 'POST';
  json?: unknown;
  body?: FormData;
  /** Message shown when the network fails or the server answers with something unreadable. */
  fallbackMessage: string;
  networkMessage: string;
}

export function loginUrl(): string {
  return `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

/** Never settles: the page is navigating away to sign in, nothing else should render. */
function redirectToLogin(): Promise<never> {
  location.assign(loginUrl());
  return new Promise<never>(() => {});
}

export async function api<T>(path: string, options: ApiOptions): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.json !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (options.json !== undefined || options.body ? 'POST' : 'GET'),
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(options.networkMessage, 0, 'NETWORK');
  }
  if (response.status === 401) return redirectToLogin();

  let body: Record<string, unknown> | null = null;
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    body = null;
  }
  if (!body) throw new ApiError(options.fallbackMessage, response.status || 500, 'INTERNAL');
  if (!response.ok || body.success === false) {
    const message = typeof body.error === 'string' && body.error ? body.error : options.fallbackMessage;
    const code = typeof body.code === 'string' ? body.code : 'INTERNAL';
    throw new ApiError(message, response.status, code, body);
  }
  return body as T;
}
