import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What the browser carries between `/auth/login` and `/auth/callback`: the state, PKCE
 * verifier and nonce of one sign-in attempt, and where to go afterwards. It lives in one
 * short-lived cookie, signed with SESSION_SECRET so it cannot be forged or edited; the
 * verifier never leaves our server and the browser except inside this cookie.
 */

export const SIGNIN_COOKIE = 'beem_signin';
export const SIGNIN_TTL_MS = 10 * 60 * 1000;
export const DEFAULT_AFTER_SIGNIN = '/app';

export interface SignInState {
  state: string;
  codeVerifier: string;
  nonce: string | null;
  next: string;
  expiresAt: number;
}

function sign(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(`beem-signin.${payload}`).digest('base64url');
}

export function sealSignInState(value: SignInState, secret: string): string {
  const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${payload}.${sign(payload, secret)}`;
}

/** Null when the cookie is missing, edited, signed with another secret, malformed or expired. */
export function openSignInState(sealed: string | undefined, secret: string, now: number): SignInState | null {
  if (!sealed || sealed.length > 4096) return null;
  const dot = sealed.indexOf('.');
  if (dot <= 0) return null;
  const payload = sealed.slice(0, dot);
  const given = Buffer.from(sealed.slice(dot + 1));
  const expected = Buffer.from(sign(payload, secret));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const v = value as Partial<SignInState>;
  if (
    typeof v.state !== 'string' ||
    typeof v.codeVerifier !== 'string' ||
    (v.nonce !== null && typeof v.nonce !== 'string') ||
    typeof v.next !== 'string' ||
    typeof v.expiresAt !== 'number'
  ) {
    return null;
  }
  if (v.expiresAt <= now) return null;
  return { state: v.state, codeVerifier: v.codeVerifier, nonce: v.nonce ?? null, next: safeNextPath(v.next), expiresAt: v.expiresAt };
}

// eslint-disable-next-line no-control-regex
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f\\]/;
/** Exactly one `/` that is not followed by another `/` or `\`: browsers read `//x` and `/\x` as another host. */
const SAME_ORIGIN_PATH = /^\/(?![/\\])/;

/**
 * A path on this site to return to, or the fallback. Anything that could leave the site
 * (`//evil`, `/\evil`, `/.//evil`, `/%2e//evil`, `https://…`, control characters) becomes
 * the fallback: an open redirect after sign-in is a phishing tool. The check is made on
 * the final, normalised value, since normalising can turn `/.//evil` into `//evil`.
 */
export function safeNextPath(input: string | null | undefined, fallback = DEFAULT_AFTER_SIGNIN): string {
  if (!input || input.length > 1000 || UNSAFE_CHARACTERS.test(input) || !SAME_ORIGIN_PATH.test(input)) return fallback;
  const base = 'http://beem.invalid';
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    return fallback;
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (url.origin !== base || !SAME_ORIGIN_PATH.test(path) || UNSAFE_CHARACTERS.test(path)) return fallback;
  if (url.pathname.startsWith('/auth/')) return fallback;
  return path;
}
