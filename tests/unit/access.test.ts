import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { createContext, type AppContext } from '../../src/lib/context.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { adminPageAccess } from '../../src/lib/admin/access.ts';
import { requireAdmin, requireUser } from '../../src/lib/auth/guards.ts';
import {
  checkSessionToken,
  createSession,
  deleteExpiredSessions,
  peekSessionUser,
  SESSION_COOKIE,
} from '../../src/lib/auth/sessions.ts';
import { getUserById, type User } from '../../src/lib/auth/users.ts';
import { nodeSessionUser, readCookie } from '../../src/lib/http/node-kit.ts';
import { isAppError } from '../../src/lib/errors.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';

/**
 * Who gets in, decided in this process: session cookies (expiry, sliding renewal, disabled
 * accounts), the route guards, admin page access and the node routes' own session check.
 * HTTP tests see these through the built server's copy; these reach the source.
 */

const TTL = 7 * 24 * 60 * 60 * 1000;
const T0 = Date.UTC(2026, 0, 1);

let db: Db;
let clock: ManualClock;

beforeEach(() => {
  db = openDatabase(':memory:');
  migrate(db);
  clock = new ManualClock(T0);
});

/** A user of `role` with a live session: its cookie token. */
async function signedIn(role: 'user' | 'admin' = 'user', email = `${role}@example.ru`): Promise<{ user: User; token: string }> {
  const userId = await seedUserWithPhoto(db, { now: T0, email });
  await db.run('UPDATE users SET role = ? WHERE id = ?', [role, userId]);
  const { token } = await createSession(db, userId, { now: clock.now(), ttlMs: TTL });
  return { user: (await getUserById(db, userId))!, token };
}

const disable = (user: User) => db.run('UPDATE users SET disabled = 1 WHERE id = ?', [user.id]);
const sessionsOf = (user: User) => db.value<number>('SELECT COUNT(*) FROM sessions WHERE userId = ?', [user.id]);
const check = async (token: string) => await checkSessionToken(db, token, { now: clock.now(), ttlMs: TTL });

/** The code of the AppError `run` throws. */
function errorCode(run: () => unknown): { status: number; code: string } | null {
  try {
    run();
    return null;
  } catch (err) {
    if (!isAppError(err)) throw err;
    return { status: err.status, code: err.code };
  }
}

describe('session cookies', () => {
  it('lets a live session in, unchanged while more than half its lifetime is left', async () => {
    const { user, token } = await signedIn();
    clock.advance(TTL / 2);
    expect(await check(token)).toMatchObject({ kind: 'valid', user: { id: user.id }, extended: false, session: { expiresAt: T0 + TTL } });
    expect(await peekSessionUser(db, token, { now: clock.now(), ttlMs: TTL })).toMatchObject({ id: user.id });
  });

  it('renews a session past half its lifetime to a full one', async () => {
    const { token } = await signedIn();
    clock.advance(TTL / 2 + 1);
    expect(await peekSessionUser(db, token, { now: clock.now(), ttlMs: TTL })).toBeNull();
    expect(await check(token)).toMatchObject({ kind: 'valid', extended: true, session: { expiresAt: clock.now() + TTL } });
    expect(await check(token)).toMatchObject({ kind: 'valid', extended: false });
  });

  it('refuses and deletes a session at its expiry, not a millisecond before', async () => {
    const { user, token } = await signedIn();
    const { token: younger } = await createSession(db, user.id, { now: T0 + 1, ttlMs: TTL });
    clock.set(T0 + TTL);
    expect(await check(token)).toEqual({ kind: 'none' });
    expect(await sessionsOf(user)).toBe(1);
    expect((await check(younger)).kind).toBe('valid');
  });

  it('refuses unknown, empty and oversized tokens', async () => {
    const { token } = await signedIn();
    expect(await check(`${token}x`)).toEqual({ kind: 'none' });
    expect(await check('')).toEqual({ kind: 'none' });
    expect(await check('a'.repeat(101))).toEqual({ kind: 'none' });
    expect(await peekSessionUser(db, 'a'.repeat(101), { now: clock.now(), ttlMs: TTL })).toBeNull();
  });

  it('hands out a session only for a live one', async () => {
    const { user, token } = await signedIn();
    expect(await check(token)).toMatchObject({ kind: 'valid', user: { id: user.id }, session: { userId: user.id }, extended: false });
    await disable(user);
    expect(await check(token)).toEqual({ kind: 'disabled', userId: user.id });
    expect(await check('unknown')).toEqual({ kind: 'none' });
  });

  it('locks a disabled account out at once: every one of its sessions is deleted, others stay', async () => {
    const { user, token } = await signedIn();
    await createSession(db, user.id, { now: clock.now(), ttlMs: TTL });
    const other = await signedIn('user', 'other@example.ru');
    await disable(user);
    expect(await peekSessionUser(db, token, { now: clock.now(), ttlMs: TTL })).toBeNull();
    expect(await sessionsOf(user)).toBe(2);
    expect(await check(token)).toEqual({ kind: 'disabled', userId: user.id });
    expect(await sessionsOf(user)).toBe(0);
    expect((await check(other.token)).kind).toBe('valid');
  });

  it('sweeps sessions that have expired, not those still live', async () => {
    const { user } = await signedIn();
    clock.advance(1);
    await createSession(db, user.id, { now: clock.now(), ttlMs: TTL });
    expect(await deleteExpiredSessions(db, T0 + TTL)).toBe(1);
    expect(await sessionsOf(user)).toBe(1);
  });
});

describe('route guards and admin access', () => {
  it('asks a signed-out caller to sign in, and keeps admin APIs to admins', async () => {
    const { user } = await signedIn('user');
    const { user: admin } = await signedIn('admin');
    expect(errorCode(() => requireUser({ user: null }))).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    expect(requireUser({ user })).toBe(user);
    expect(errorCode(() => requireAdmin({ user: null }))).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    expect(errorCode(() => requireAdmin({ user }))).toEqual({ status: 403, code: 'ADMIN_ONLY' });
    expect(requireAdmin({ user: admin })).toBe(admin);
  });

  it('opens admin pages to enabled admins only', async () => {
    const { user } = await signedIn('user');
    const { user: admin } = await signedIn('admin');
    expect(adminPageAccess({ user: null })).toBe('signed-out');
    expect(adminPageAccess({ user })).toBe('forbidden');
    expect(adminPageAccess({ user: admin })).toBe('ok');
    expect(adminPageAccess({ user: { ...admin, disabled: true } })).toBe('forbidden');
  });
});

describe('the node routes’ session check', () => {
  let ctx: AppContext;
  let server: http.Server;
  let seen: User | null;

  beforeEach(async () => {
    ctx = await createContext(loadConfig({ NODE_ENV: 'test' }), { db, clock, log: createLogger('silent') });
    server = http.createServer(async (req, res) => {
      seen = await nodeSessionUser(ctx, req, res);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function request(cookie: string | null): Promise<{ user: User | null; setCookie: string | null }> {
    seen = null;
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/status`, { headers: cookie ? { cookie } : {} });
    return { user: seen, setCookie: res.headers.get('set-cookie') };
  }

  it('finds the session cookie among others, and sends it again only when the session was renewed', async () => {
    const { user, token } = await signedIn();
    expect(await request(`theme=dark; ${SESSION_COOKIE}=${encodeURIComponent(token)}; beem_lang=ru`)).toEqual({ user, setCookie: null });
    clock.advance(TTL / 2 + 1);
    const renewed = await request(`${SESSION_COOKIE}=${token}`);
    expect(renewed.user?.id).toBe(user.id);
    expect(renewed.setCookie).toBe(`${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; Max-Age=${TTL / 1000}; HttpOnly; SameSite=Lax`);
  });

  it('marks the renewed cookie Secure in production', async () => {
    const { token } = await signedIn();
    ctx = { ...ctx, config: { ...ctx.config, isProduction: true } };
    clock.advance(TTL / 2 + 1);
    expect((await request(`${SESSION_COOKIE}=${token}`)).setCookie).toMatch(/; HttpOnly; SameSite=Lax; Secure$/);
  });

  it('answers null without a cookie, for an expired session and for a disabled account', async () => {
    const { user, token } = await signedIn();
    expect(await request(null)).toEqual({ user: null, setCookie: null });
    expect(await request(`other_${SESSION_COOKIE}=${token}`)).toEqual({ user: null, setCookie: null });
    await disable(user);
    expect(await request(`${SESSION_COOKIE}=${token}`)).toEqual({ user: null, setCookie: null });
    const { token: expired } = await signedIn('user', 'late@example.ru');
    clock.advance(TTL);
    expect(await request(`${SESSION_COOKIE}=${expired}`)).toEqual({ user: null, setCookie: null });
  });

  it('reads one cookie by name, and nothing from a malformed value', () => {
    expect(readCookie('a=1; beem_session=x%20y; b=2', SESSION_COOKIE)).toBe('x y');
    expect(readCookie('beem_session_old=1; flag; beem_session =  z ', SESSION_COOKIE)).toBe('z');
    expect(readCookie('beem_session=%E0%A4%A', SESSION_COOKIE)).toBeNull();
    expect(readCookie(undefined, SESSION_COOKIE)).toBeNull();
    expect(readCookie('other=1', SESSION_COOKIE)).toBeNull();
  });
});
