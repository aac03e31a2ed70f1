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
