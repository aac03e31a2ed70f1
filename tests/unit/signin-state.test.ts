import { describe, expect, it } from 'vitest';
import { openSignInState, safeNextPath, sealSignInState, type SignInState } from '../../src/lib/auth/signin-state.ts';

const SECRET = 's'.repeat(40);
const NOW = 1_800_000_000_000;
const state: SignInState = { state: 'st', codeVerifier: 'v'.repeat(43), nonce: 'n', next: '/app', expiresAt: NOW + 600_000 };

describe('sign-in state cookie', () => {
  it('opens what it sealed', () => {
    expect(openSignInState(sealSignInState(state, SECRET), SECRET, NOW)).toEqual(state);
    expect(openSignInState(sealSignInState({ ...state, nonce: null }, SECRET), SECRET, NOW)?.nonce).toBeNull();
  });

  it('refuses an edited, foreign, expired or malformed cookie', () => {
    const sealed = sealSignInState(state, SECRET);
    const [payload, mac] = sealed.split('.') as [string, string];
    const edited = Buffer.from(JSON.stringify({ ...state, codeVerifier: 'w'.repeat(43) })).toString('base64url');
    expect(openSignInState(`${edited}.${mac}`, SECRET, NOW)).toBeNull();
    expect(openSignInState(`${payload}.${mac.slice(0, -2)}xx`, SECRET, NOW)).toBeNull();
    expect(openSignInState(sealed, 't'.repeat(40), NOW)).toBeNull();
    expect(openSignInState(sealed, SECRET, state.expiresAt)).toBeNull();
    expect(openSignInState(undefined, SECRET, NOW)).toBeNull();
    expect(openSignInState('garbage', SECRET, NOW)).toBeNull();
    const notJson = Buffer.from('{').toString('base64url');
    expect(openSignInState(sealSignInState(state, SECRET).replace(payload, notJson), SECRET, NOW)).toBeNull();
  });

  it.each([
    ['/app', '/app'],
    ['/app/history?page=2#top', '/app/history?page=2#top'],
    ['/billing', '/billing'],
    [null, '/app'],
    ['', '/app'],
    ['app', '/app'],
    ['https://evil.example/app', '/app'],
    ['//evil.example/app', '/app'],
    ['/\\evil.example', '/app'],
    ['/\tevil', '/app'],
    ['/%0d%0aSet-Cookie:x', '/%0d%0aSet-Cookie:x'],
    ['/auth/logout', '/app'],
    ['javascript:alert(1)', '/app'],
    // Normalising turns these into //evil.example: the final value is what is checked.
    ['/.//evil.example/phish', '/app'],
    ['/..//evil.example/phish', '/app'],
    ['/%2e//evil.example/phish', '/app'],
    ['/a/..//evil.example/phish', '/app'],
    ['/a/../\\evil.example', '/app'],
    ['/a/../billing', '/billing'],
  ])('safeNextPath(%j) → %j', (input, expected) => {
    expect(safeNextPath(input)).toBe(expected);
  });
});
