import type { APIContext } from 'astro';
import { startSignIn } from '../../lib/auth/signin.ts';
import { SIGNIN_COOKIE } from '../../lib/auth/signin-state.ts';
import { signInCookieOptions } from '../../lib/auth/cookies.ts';
import { isAppError } from '../../lib/errors.ts';

/**
 * Starts sign-in: keeps state, PKCE verifier, nonce and the page to return to in a signed
 * ten-minute cookie and sends the browser to the provider. POST from the sign-in button;
 * GET works too, so a plain link can start it.
 */
async function login(context: APIContext, next: string | null): Promise<Response> {
  const { ctx } = context.locals;
  try {
    const started = await startSignIn(ctx, next);
    context.cookies.set(SIGNIN_COOKIE, started.cookie, signInCookieOptions(ctx.config));
    return context.redirect(started.location, 303);
  } catch (err) {
    const code = isAppError(err) ? err.code : 'SIGNIN_FAILED';
    if (!isAppError(err)) context.locals.log.error({ err }, 'sign-in could not start');
    return context.redirect(`/login?error=${code}`, 303);
  }
}

export const GET = (context: APIContext) => login(context, context.url.searchParams.get('next'));

export const POST = async (context: APIContext) => {
  let next: string | null = null;
  const type = context.request.headers.get('content-type') ?? '';
  if (type.includes('application/x-www-form-urlencoded') || type.includes('multipart/form-data')) {
    const value = (await context.request.formData().catch(() => null))?.get('next');
    next = typeof value === 'string' ? value : null;
  }
  return login(context, next ?? context.url.searchParams.get('next'));
};
