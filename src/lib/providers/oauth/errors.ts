/**
 * A sign-in the provider did not complete. The codes are the ones the sign-in page explains
 * (`errors.<code>`); the auth service turns them into `AppError`s with their HTTP status.
 */
const OAUTH_ERROR = Symbol.for('beem.OAuthError');

export type OAuthErrorCode =
  /** The provider is down, slow or answered 5xx: try again later. */
  | 'SIGNIN_PROVIDER_UNAVAILABLE'
  /** The provider refused the attempt (bad state, code, token or signature). */
  | 'SIGNIN_FAILED'
  /** The person pressed "cancel" at the provider. */
  | 'SIGNIN_CANCELLED'
  | 'SIGNIN_EMAIL_MISSING'
  /** The provider does not vouch for the address: it may not identify or link an account. */
  | 'SIGNIN_EMAIL_UNVERIFIED';

export class OAuthError extends Error {
  readonly [OAUTH_ERROR] = true;

  constructor(
    readonly code: OAuthErrorCode,
    options: { cause?: unknown } = {},
  ) {
    super(`sign-in failed: ${code}`, { cause: options.cause });
    this.name = 'OAuthError';
  }
}

/** Works across bundles, like `isAppError`. */
export function isOAuthError(err: unknown): err is OAuthError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[OAUTH_ERROR] === true;
}
