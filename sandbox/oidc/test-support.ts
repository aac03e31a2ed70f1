import * as client from 'openid-client';

/**
 * A session at the sandbox provider for `email`, made through its control API, so tests skip
 * the sign-in form (a real browser would have signed in there before): the `Cookie` header
 * value to send with the authorize request.
 */
export async function providerSession(sandboxUrl: string, email: string, name?: string): Promise<string> {
  const res = await fetch(`${sandboxUrl}/_sandbox/oidc/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'sign_in', email, name }),
  });
  const body = (await res.json()) as { cookie?: string; error?: string };
  if (!res.ok || !body.cookie) throw new Error(`the sandbox provider refused a session for ${email}: ${body.error ?? res.status}`);
  return body.cookie;
}

/**
 * The front channel as openid-client builds it (PKCE S256, state, nonce), for a browser signed
 * in at the provider as `email`: what the provider's redirect brought back, and the values the
 * code grant must check.
 */
export async function authorizeSignedIn(
  sandboxUrl: string,
  config: client.Configuration,
  options: { redirectUri: string; email: string; extra?: Record<string, string> },
): Promise<{ response: Response; callback: URL | null; verifier: string; state: string; nonce: string }> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: options.redirectUri,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...options.extra,
  });
  const response = await fetch(url, { redirect: 'manual', headers: { cookie: await providerSession(sandboxUrl, options.email) } });
  const location = response.headers.get('location');
  return { response, callback: location ? new URL(location) : null, verifier, state, nonce };
}
