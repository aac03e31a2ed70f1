export interface ApiFetchOptions {
  method?: string;
  cookie?: string;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  /** Send `Origin` like a browser on the same site would (default true for non-GET). */
  sameOrigin?: boolean;
}

/** fetch against the app with a session cookie, JSON body, and a same-site Origin header. */
export function apiFetch(baseUrl: string, path: string, options: ApiFetchOptions = {}): Promise<Response> {
  const method = options.method ?? (options.json !== undefined || options.body !== undefined ? 'POST' : 'GET');
  const headers: Record<string, string> = { ...options.headers };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.json !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && (options.sameOrigin ?? true)) headers.origin = baseUrl;
  return fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
    redirect: 'manual',
  });
}
