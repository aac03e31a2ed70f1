import type { AppContext } from '../context.ts';
import { AppError } from '../errors.ts';
import { createSession, deleteUserSessions, type Session } from './sessions.ts';
import { openSignInState, safeNextPath, sealSignInState, SIGNIN_TTL_MS } from './signin-state.ts';
import { upsertUserFromIdentity, type User } from './users.ts';

/**
 * The sign-in flow between our routes and the provider: `/auth/login` calls
 * `startSignIn`, the provider sends the person back to `/auth/callback`, which calls
 * `finishSignIn`. Every sign-in makes a new session (an old cookie never becomes valid
 * by signing in again).
 */

export interface StartedSignIn {
  /** Where to send the browser (the provider's authorization page). */
  location: string;
  /** Value of the short-lived sign-in cookie. */
  cookie: string;
}

export async function startSignIn(ctx: AppContext, next: string | null | undefined): Promise<StartedSignIn> {
  const request = await ctx.oauth.createAuthorizationRequest();
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

export async function finishSignIn(ctx: AppContext, input: FinishSignInInput): Promise<FinishedSignIn> {
  const saved = openSignInState(input.cookie, ctx.secrets.sessionSecret, ctx.clock.now());
  if (!saved) throw new AppError('SIGNIN_EXPIRED', { status: 400 });
  const profile = await ctx.oauth.completeAuthorization(input.callbackQuery, saved);

  const now = ctx.clock.now();
  const { user, created, linked } = upsertUserFromIdentity(ctx.db, profile, {
    now,
    trialCredits: ctx.config.pricing.trialCredits,
    adminEmails: ctx.config.auth.adminEmails,
  });
  const log = ctx.log.child({ mod: 'auth', userId: user.id, provider: profile.provider });
  if (user.disabled) {
    const removed = deleteUserSessions(ctx.db, user.id);
    log.warn({ removedSessions: removed }, 'disabled user tried to sign in');
    throw new AppError('ACCOUNT_DISABLED', { status: 403 });
  }
  const { token, session } = createSession(ctx.db, user.id, {
    now,
    ttlMs: ctx.config.session.ttlMs,
    userAgent: input.userAgent,
    ip: input.ip,
  });
  log.info({ created, linked }, created ? 'user signed up' : 'user signed in');
  return { user, session, token, next: saved.next, created };
}
