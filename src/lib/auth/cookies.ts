import type { Config } from '../config.ts';
import { SIGNIN_TTL_MS } from './signin-state.ts';

/** Cookie attributes in one place: HttpOnly, SameSite=Lax, Secure in production. */

export interface CookieOptions {
  httpOnly: true;
  sameSite: 'lax';
  path: string;
  secure: boolean;
  maxAge: number;
}

export function sessionCookieOptions(config: Pick<Config, 'isProduction' | 'session'>): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', path: '/', secure: config.isProduction, maxAge: Math.floor(config.session.ttlMs / 1000) };
}

/**
 * The sign-in state cookie is sent only to /auth/* and lives ten minutes. Lax (not Strict)
 * because the provider's redirect back is a cross-site top-level navigation.
 */
export function signInCookieOptions(config: Config): CookieOptions {
  return { httpOnly: true, sameSite: 'lax', path: '/auth', secure: config.isProduction, maxAge: SIGNIN_TTL_MS / 1000 };
}
