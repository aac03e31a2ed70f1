import { describe, expect, it } from 'vitest';
import { startSandbox } from '../../sandbox/index.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { OAuthClient } from '../../src/lib/providers/oauth/client.ts';
import { startApp } from '../helpers/app.ts';

function clientFor(sandboxUrl: string): OAuthClient {
  const { config, secrets } = loadConfig({ SANDBOX_URL: sandboxUrl });
  return new OAuthClient(config.auth, secrets.oauthClientSecret, createLogger('silent'));
}

describe('sign-in provider configuration', () => {
  it('fetches discovery once, and retries on the next sign-in after a failure', async () => {
    const first = await startSandbox();
    const port = first.port;
    await first.close();
    const client = clientFor(`http://127.0.0.1:${port}`);
    await expect(client.createAuthorizationRequest()).rejects.toMatchObject({ name: 'OAuthError', code: 'SIGNIN_PROVIDER_UNAVAILABLE' });

    const sandbox = await startSandbox({ port });
    try {
      const a = await client.createAuthorizationRequest();
      const b = await client.createAuthorizationRequest();
      expect(a.url.origin).toBe(`http://127.0.0.1:${port}`);
      expect(a.state).not.toBe(b.state);
      expect(a.codeVerifier).not.toBe(b.codeVerifier);
      expect(a.nonce).not.toBe(b.nonce);
      expect(sandbox.requestCounts.oidc).toBe(1);
    } finally {
      await sandbox.close();
    }
  });

  it('warms up discovery at start without throwing, then reuses it', async () => {
    const gone = await startSandbox();
    await gone.close();
    const failing = clientFor(gone.url);
    await expect(failing.warmUp()).resolves.toBeUndefined();

    const sandbox = await startSandbox();
    try {
      const client = clientFor(sandbox.url);
      await client.warmUp();
      expect(sandbox.requestCounts.oidc).toBe(1);
      await client.createAuthorizationRequest();
      expect(sandbox.requestCounts.oidc).toBe(1);
    } finally {
      await sandbox.close();
    }
  });

  it('sends the person back to /login with a clear message when the provider cannot be reached', async () => {
    const gone = await startSandbox();
    await gone.close();
    const app = await startApp({ env: { SANDBOX_URL: gone.url } });
    try {
      const res = await fetch(`${app.url}/auth/login`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/login?error=SIGNIN_PROVIDER_UNAVAILABLE');
    } finally {
      await app.stop();
    }
  });
});
