import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/lib/config.ts';
import {
  contentSecurityPolicy,
  httpsRedirectLocation,
  isOriginCheckExempt,
  isTrustedStateChange,
} from '../../src/lib/http/security.ts';
import type { IncomingMessage } from 'node:http';
import { clientIp } from '../../src/lib/http/client-ip.ts';
import { requestClientAddress } from '../../src/lib/http/client-address.ts';
import { nodeRequestHeaders } from '../../src/lib/http/node-kit.ts';
import { RateLimits } from '../../src/lib/http/rate-limits.ts';

const { config } = loadConfig({ PUBLIC_BASE_URL: 'https://beem.example', CORS_ORIGINS: 'https://shop.example' });

describe('cross-site state changes', () => {
  it.each([
    [{ origin: 'https://beem.example' }, true],
    [{ origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3000' }, true],
    [{ origin: 'http://127.0.0.1:3000', host: '127.0.0.1:3001' }, false],
    [{ origin: 'http://localhost' }, false],
    [{ origin: 'https://evil.example', host: 'beem.example' }, false],
    [{ origin: 'https://shop.example' }, true],
    [{ origin: 'https://evil.example' }, false],
    [{ origin: 'https://beem.example.evil.example' }, false],
    [{ origin: 'null' }, false],
    [{ 'sec-fetch-site': 'same-origin' }, true],
    [{ 'sec-fetch-site': 'same-site' }, false],
    [{ 'sec-fetch-site': 'cross-site' }, false],
    [{}, false],
    [{ origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }, false],
  ])('headers %j → trusted %s', (headers, trusted) => {
    expect(isTrustedStateChange(new Headers(headers), config)).toBe(trusted);
  });

  it('trusts the host the browser sent the request to, even when Astro saw it as localhost', () => {
    const sameHost = new Headers({ host: '127.0.0.1:37211', origin: 'http://127.0.0.1:37211' });
    const crossSite = new Headers({ host: '127.0.0.1:37211', origin: 'http://evil.example:37211' });
    expect(isTrustedStateChange(sameHost, config)).toBe(true);
    expect(isTrustedStateChange(crossSite, config)).toBe(false);
  });

  it('exempts exactly the two provider webhooks', () => {
    expect(isOriginCheckExempt('/minimax_callback')).toBe(true);
    expect(isOriginCheckExempt('/api/payments/yookassa/webhook/')).toBe(true);
    expect(isOriginCheckExempt('/api/payments/yookassa/create')).toBe(false);
    expect(isOriginCheckExempt('/minimax_callback/../api/generate')).toBe(false);
  });
});

describe('content security policy', () => {
  it('allows our own script files only, and forms to the listed origins', () => {
    const csp = contentSecurityPolicy({ formActionOrigins: ['https://accounts.google.com'], upgradeInsecure: false });
    expect(csp.split('; ')).toContain("script-src 'self'");
    expect(csp).toContain("form-action 'self' https://accounts.google.com");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(contentSecurityPolicy({ formActionOrigins: [], upgradeInsecure: true })).toContain('upgrade-insecure-requests');
  });
});

describe('client IP', () => {
  const locals = (clientAddress: string | null, trustProxy: boolean) => ({ clientAddress, ctx: { config: { server: { trustProxy } } } });
  const request = (h: Record<string, string>) => new Request('http://x/', { headers: h });
  it.each([
    [{ 'x-forwarded-for': '1.1.1.1' }, '10.0.0.2', false, '10.0.0.2'],
    [{ 'x-forwarded-for': '6.6.6.6, 1.1.1.1' }, '10.0.0.2', true, '1.1.1.1'],
    [{ 'x-real-ip': '2.2.2.2', 'x-forwarded-for': '6.6.6.6' }, '10.0.0.2', true, '2.2.2.2'],
    [{}, '::ffff:127.0.0.1', true, '127.0.0.1'],
    [{}, '2a02:5180::1', false, '2a02:5180::1'],
    [{}, null, false, ''],
  ])('%j from %s (trust proxy %s) → %s', (h, remote, trust, expected) => {
    expect(clientIp(request(h), locals(remote, trust))).toBe(expected);
  });
  it('reads node requests the same way', () => {
    const req = { headers: { 'x-forwarded-for': '6.6.6.6, 1.1.1.1' }, socket: { remoteAddress: '10.0.0.2' } } as unknown as IncomingMessage;
    expect(requestClientAddress(req.socket.remoteAddress, nodeRequestHeaders(req), true)).toBe('1.1.1.1');
    expect(requestClientAddress(req.socket.remoteAddress, nodeRequestHeaders(req), false)).toBe('10.0.0.2');
  });
});

describe('HTTPS redirect', () => {
  const production = loadConfig({
    NODE_ENV: 'production',
    SESSION_SECRET: 'x'.repeat(40),
    PUBLIC_BASE_URL: 'https://beem.example',
    OAUTH_PROVIDER: 'google',
    OAUTH_CLIENT_ID: 'c',
    OAUTH_CLIENT_SECRET: 's',
    OPENAI_API_KEY: 'k',
    MINIMAX_API_KEY: 'k',
    YOOKASSA_SHOP_ID: '1',
    YOOKASSA_API_KEY: 'k',
    TRUST_PROXY: 'true',
  }).config;
  it('happens only in production behind a trusted proxy that saw plain http', () => {
    expect(httpsRedirectLocation(production, 'http', '/app?x=1')).toBe('https://beem.example/app?x=1');
    expect(httpsRedirectLocation(production, 'https', '/app')).toBeNull();
    expect(httpsRedirectLocation(production, undefined, '/app')).toBeNull();
    expect(httpsRedirectLocation({ ...production, server: { ...production.server, trustProxy: false } }, 'http', '/app')).toBeNull();
    expect(httpsRedirectLocation(config, 'http', '/app')).toBeNull();
  });
});

describe('rate limits', () => {
  const limits = { generatePerMinute: 2, previewPerMinute: 1, uploadPerMinute: 1, paymentCreatesPerMinute: 1, paymentChecksPerMinute: 5, signInPerMinute: 1 };
  it('counts per user, falls back to the IP, and leaves other routes alone', async () => {
    const rl = new RateLimits(limits);
    const generate = (userId: string | null, ip = '1.1.1.1') => rl.consume({ method: 'POST', route: '/api/generate', userId, ip });
    expect(await generate('u1')).toBeNull();
    expect(await generate('u1')).toBeNull();
    expect(await generate('u1')).toMatchObject({ rule: 'generate', retryAfterSeconds: expect.any(Number) });
    expect(await generate('u2')).toBeNull();
    expect(await generate(null)).toBeNull();
    expect(await generate(null)).toBeNull();
    expect(await generate(null)).not.toBeNull();
    expect(await generate(null, '2.2.2.2')).toBeNull();
    for (let i = 0; i < 5; i += 1) {
      expect(await rl.consume({ method: 'GET', route: '/api/status', userId: 'u1', ip: '1.1.1.1' })).toBeNull();
      expect(await rl.consume({ method: 'POST', route: '/api/payments/yookassa/webhook', userId: null, ip: '1.1.1.1' })).toBeNull();
    }
    expect(await rl.consume({ method: 'POST', route: '/api/payments/yookassa/create', userId: 'u1', ip: 'x' })).toBeNull();
    expect(await rl.consume({ method: 'POST', route: '/api/payments/yookassa/create', userId: 'u1', ip: 'x' })).not.toBeNull();
    expect(await rl.consume({ method: 'GET', route: '/api/payments/yookassa/check', userId: 'u1', ip: 'x' })).toBeNull();
    expect(await rl.consume({ method: 'POST', route: '/api/upload-image', userId: 'u1', ip: 'x' })).toBeNull();
    expect(await rl.consume({ method: 'POST', route: '/api/upload-image', userId: 'u1', ip: 'x' })).not.toBeNull();
    // The free preview has its own budget: spending it leaves generating untouched.
    expect(await rl.consume({ method: 'POST', route: '/api/prompt-preview', userId: 'u3', ip: 'x' })).toBeNull();
    expect(await rl.consume({ method: 'POST', route: '/api/prompt-preview', userId: 'u3', ip: 'x' })).toMatchObject({ rule: 'preview' });
    expect(await generate('u3')).toBeNull();
    expect(await rl.consume({ method: 'GET', route: '/auth/login', userId: 'u1', ip: '9.9.9.9' })).toBeNull();
    expect(await rl.consume({ method: 'GET', route: '/auth/callback', userId: 'u2', ip: '9.9.9.9' })).toMatchObject({ rule: 'signin' });
  });
});
