import type { Clock } from '../clock.ts';
import type { Config, Secrets } from '../config.ts';
import type { Database } from '../db/database.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { OAuthClient } from '../providers/oauth/client.ts';
import { isOAuthError, type OAuthErrorCode } from '../providers/oauth/errors.ts';
import { createSession, deleteUserSessions, type Session } from './sessions.ts';
import { openSignInState, safeNextPath, sealSignInState, SIGNIN_TTL_MS } from './signin-state.ts';
import { upsertUserFromIdentity, type User } from './users.ts';

/**
 * The sign-in flow between our routes and the provider: `/auth/login` calls
 * `startSignIn`, the provider sends the person back to `/auth/callback`, which calls
 * `finishSignIn`. Every sign-in makes a new session (an old cookie never becomes valid
 * by signing in again).
 */

export interface SignInDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  config: Pick<Config, 'auth' | 'pricing' | 'session'>;
  secrets: Pick<Secrets, 'sessionSecret'>;
  oauth: Pick<OAuthClient, 'createAuthorizationRequest' | 'completeAuthorization'>;
}

const SIGNIN_STATUS: Record<OAuthErrorCode, number> = {
  SIGNIN_PROVIDER_UNAVAILABLE: 503,
  SIGNIN_FAILED: 400,
  SIGNIN_CANCELLED: 400,
  SIGNIN_EMAIL_MISSING: 400,
  SIGNIN_EMAIL_UNVERIFIED: 403,
};

/** The provider's refusal as our typed error; anything else is rethrown as it is. */
async function fromProvider<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (isOAuthError(err)) throw new AppError(err.code, { status: SIGNIN_STATUS[err.code], cause: err });
    throw err;
  }
}

export interface StartedSignIn {
  /** Where to send the browser (the provider's authorization page). */
  location: string;
  /** Value of the short-lived sign-in cookie. */
  cookie: string;
}

export async function startSignIn(ctx: SignInDeps, next: string | null | undefined): Promise<StartedSignIn> {
  const request = await fromProvider(ctx.oauth.createAuthorizationRequest());
  const cookie = sealSignInState(
    {
      state: request.state,
      codeVerifier: request.codeVerifier,
      nonce: request.nonce,
      next: safeNextPath(next),
      expiresAt: ctx.clock.now() + SIGNIN_TTL_MS,
    },
    ctx.secrets.sessionSecret,
  );
  return { location: request.url.toString(), cookie };
}

export interface FinishSignInInput {
  callbackQuery: URLSearchParams;
  cookie: string | undefined;
  userAgent: string | null;
  ip: string | null;
}

export interface FinishedSignIn {
  user: User;
  session: Session;
  token: string;
  next: string;
  created: boolean;
}

export async function finishSignIn(ctx: SignInDeps, input: FinishSignInInput): Promise<FinishedSignIn> {
  const saved = openSignInState(input.cookie, ctx.secrets.sessionSecret, ctx.clock.now());
  if (!saved) throw new AppError('SIGNIN_EXPIRED', { status: 400 });
  const profile = await fromProvider(ctx.oauth.completeAuthorization(input.callbackQuery, saved));

  const now = ctx.clock.now();
  const { user, created, linked } = await upsertUserFromIdentity(ctx.db, profile, {
    now,
    trialCredits: ctx.config.pricing.trialCredits,
    adminEmails: ctx.config.auth.adminEmails,
  });
  const log = ctx.log.child({ mod: 'auth', userId: user.id, provider: profile.provider });
  if (user.disabled) {
    const removed = await deleteUserSessions(ctx.db, user.id);
    log.warn({ removedSessions: removed }, 'disabled user tried to sign in');
    throw new AppError('ACCOUNT_DISABLED', { status: 403 });
  }
  const { token, session } = await createSession(ctx.db, user.id, {
    now,
    ttlMs: ctx.config.session.ttlMs,
    userAgent: input.userAgent,
    ip: input.ip,
  });
  log.info({ created, linked }, created ? 'user signed up' : 'user signed in');
  return { user, session, token, next: saved.next, created };
}
