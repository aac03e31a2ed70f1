import type { Config } from '../config.ts';

/** The language choice is not secret, but nothing on the page needs to read it either. */
export function localeCookieOptions(config: Config) {
  return { httpOnly: true, sameSite: 'lax' as const, path: '/', secure: config.isProduction, maxAge: 365 * 24 * 60 * 60 };
}
