import { providerSession } from '../../sandbox/oidc/test-support.ts';
import type { TestStack } from './stack.ts';

/** A tiny cookie jar: name → value, as a browser would send them back to one site. */
export class CookieJar {
  readonly values = new Map<string, string>();

  /** Takes the Set-Cookie headers of a response; Max-Age=0 / empty deletes. */
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (!value || /max-age=0\b/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line)) this.values.delete(name);
      else this.values.set(name, value);
    }
  }

  header(): string {
    return [...this.values].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface SignInSteps {
  /** `/auth/login` → the provider's authorize URL. */
  login: Response;
  authorizeUrl: URL;
  /** The provider's redirect back to the app (`/auth/callback?code&state`). */
  callbackUrl: URL;
  /** The app's answer to the callback (303 to `next` or to `/login?error=`). */
  callback: Response;
  jar: CookieJar;
}

/**
 * Walks the real sign-in redirects: app → sandbox OIDC provider (completed at once thanks to a
 * provider session, as if the person had signed in there before) → app callback. `tamper` may
 * change the callback URL before the browser follows it (tests of state checks).
 */
export async function walkSignIn(
  stack: TestStack,
  email: string,
  options: { next?: string; jar?: CookieJar; tamper?: (callbackUrl: URL) => void; ip?: string } = {},
): Promise<SignInSteps> {
  const jar = options.jar ?? new CookieJar();
  const headers = (): Record<string, string> => ({
    ...(jar.values.size ? { cookie: jar.header() } : {}),
    ...(options.ip ? { 'x-forwarded-for': options.ip } : {}),
  });
  const query = options.next ? `?next=${encodeURIComponent(options.next)}` : '';
  const login = await fetch(`${stack.app.url}/auth/login${query}`, { redirect: 'manual', headers: headers() });
  jar.take(login);
  const location = login.headers.get('location');
  if (login.status !== 303 || !location) throw new Error(`/auth/login answered ${login.status} → ${location}`);
  const authorizeUrl = new URL(location);
  const provider = await fetch(authorizeUrl, { redirect: 'manual', headers: { cookie: await providerSession(stack.sandbox.url, email) } });
  const back = provider.headers.get('location');
  if (provider.status !== 302 || !back) throw new Error(`provider answered ${provider.status}: ${await provider.text()}`);
  const callbackUrl = new URL(back);
  options.tamper?.(callbackUrl);
  const callback = await fetch(callbackUrl, { redirect: 'manual', headers: headers() });
  jar.take(callback);
  return { login, authorizeUrl, callbackUrl, callback, jar };
}

/** Signs `email` in through the sandbox provider and returns the `Cookie` header value. */
export async function signInThroughSandbox(stack: TestStack, email: string): Promise<string> {
  const steps = await walkSignIn(stack, email);
  const session = steps.jar.values.get('beem_session');
  if (!session) {
    throw new Error(`sign-in of ${email} failed: ${steps.callback.status} → ${steps.callback.headers.get('location')}`);
  }
  return `beem_session=${session}`;
}
