/**
 * One spelling per path, decided before anything looks at the request. The node routes
 * and Astro's router must never see different paths for the same request: `//admin/users`
 * was host `admin` for `new URL()` and the admin page for Astro's router. So a request
 * target is either canonical (served as is), another spelling of a canonical path
 * (`//x`, `/./x`, `/a/../x`, `/%61dmin` — GET/HEAD are redirected, anything else is 404,
 * so no body is ever sent to a route under another name), or unusable (400: broken
 * percent-encoding, an encoded `/` or `\`, a backslash, control characters).
 *
 * Canonical: starts with exactly one `/`, no empty segment except a trailing slash, no
 * `.`/`..` segments, and every byte percent-encoded exactly when it must be (upper-case
 * hex; unreserved characters and sub-delimiters literal). The query string is left alone.
 */

export type PathVerdict =
  | { kind: 'canonical'; path: string; query: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'not-found' }
  | { kind: 'bad-request' };

/** RFC 3986 `pchar` without percent-encoding: left literal in a canonical path. */
const LITERAL = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;
const VALID_ESCAPES = /^(?:[^%]|%[0-9A-Fa-f]{2})*$/;
// Visible ASCII only; `#` cannot be in a request target and `\` is a path separator somewhere.
const RAW_PATH = /^[\x21-\x7e]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function encodeSegment(segment: string): string {
  let out = '';
  for (const char of segment) {
    if (LITERAL.test(char)) out += char;
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null; // percent-encoded bytes that are not UTF-8
  }
}

export function canonicalRequestTarget(target: string, method: string): PathVerdict {
  if (!target.startsWith('/')) return { kind: 'bad-request' };
  const queryAt = target.indexOf('?');
  const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = queryAt === -1 ? '' : target.slice(queryAt);
  if (!RAW_PATH.test(rawPath) || rawPath.includes('#') || rawPath.includes('\\') || !VALID_ESCAPES.test(rawPath)) {
    return { kind: 'bad-request' };
  }

  const rawSegments = rawPath.split('/').slice(1);
  const resolved: string[] = [];
  const last = rawSegments.length - 1;
  for (let i = 0; i <= last; i += 1) {
    const decoded = decodeSegment(rawSegments[i]!);
    if (decoded === null || decoded.includes('/') || decoded.includes('\\') || CONTROL.test(decoded)) {
      return { kind: 'bad-request' };
    }
    if (decoded === '..') resolved.pop();
    else if (decoded === '.' || (decoded === '' && i !== last)) continue;
    else if (decoded !== '' || resolved.length > 0) resolved.push(decoded);
  }
  const canonical = `/${resolved.map(encodeSegment).join('/')}`;
  if (canonical === rawPath) return { kind: 'canonical', path: rawPath, query };
  if (method === 'GET' || method === 'HEAD') return { kind: 'redirect', location: `${canonical}${query}` };
  return { kind: 'not-found' };
}
