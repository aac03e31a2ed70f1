import type { APIContext } from 'astro';
import { finishSignIn } from '../../lib/auth/signin.ts';
import { SIGNIN_COOKIE } from '../../lib/auth/signin-state.ts';
import { SESSION_COOKIE, deleteSession } from '../../lib/auth/sessions.ts';
import { sessionCookieOptions, signInCookieOptions } from '../../lib/auth/cookies.ts';
import { clientIp } from '../../lib/http/client-ip.ts';
import { isAppError } from '../../lib/errors.ts';

/**
 * The provider sends the person back here (GET with `code` and `state`). Success: a new
 * session cookie and a redirect to the page they came for. Any failure: back to /login
 * with a message saying what to do.
 */
export async function GET(context: APIContext): Promise<Response> {
  const { ctx, log } = context.locals;
  const cookie = context.cookies.get(SIGNIN_COOKIE)?.value;
  // One attempt per cookie: whatever happens next, it is not reusable.
  context.cookies.delete(SIGNIN_COOKIE, { path: signInCookieOptions(ctx.config).path });
  try {
    const done = await finishSignIn(ctx, {
      callbackQuery: context.url.searchParams,
      cookie,
      userAgent: context.request.headers.get('user-agent'),
      ip: clientIp(context.request, context.locals) || null,
    });
    // The session this browser had before (maybe someone else's) ends here.
    if (context.locals.session) await deleteSession(ctx.db, context.locals.session.id);
    context.cookies.set(SESSION_COOKIE, done.token, sessionCookieOptions(ctx.config));
    return context.redirect(done.next, 303);
  } catch (err) {
    const code = isAppError(err) ? err.code : 'SIGNIN_FAILED';
    if (!isAppError(err)) log.error({ err }, 'sign-in failed unexpectedly');
    return context.redirect(`/login?error=${code}`, 303);
  }
}
