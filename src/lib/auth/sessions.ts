import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../db/database.ts';
import { newId } from '../ids.ts';
import { readRow } from '../db/row.ts';
import { rowToUser, type User } from './users.ts';

export const SESSION_COOKIE = 'beem_session';

export interface Session {
  id: string;
  userId: string;
  expiresAt: number;
}

export interface ValidatedSession {
  session: Session;
  user: User;
  /** True when the expiry moved forward and the cookie should be sent again. */
  extended: boolean;
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** 32 random bytes for the cookie; only their SHA-256 is stored. */
export async function createSession(
  db: Database,
  userId: string,
  options: { now: number; ttlMs: number; userAgent?: string | null; ip?: string | null },
): Promise<{ token: string; session: Session }> {
  const token = randomBytes(32).toString('base64url');
  const session: Session = { id: newId('ses', options.now), userId, expiresAt: options.now + options.ttlMs };
  await db.run(
    `INSERT INTO sessions (id, userId, token_hash, expiresAt, createdAt, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [session.id, userId, hashSessionToken(token), session.expiresAt, options.now, options.userAgent?.slice(0, 300) ?? null, options.ip ?? null],
  );
  return { token, session };
}

/** What a cookie token turned out to be. */
export type SessionCheck =
  | ({ kind: 'valid' } & ValidatedSession)
  /** The account is disabled: every session of it was deleted just now. */
  | { kind: 'disabled'; userId: string }
  /** Unknown, malformed or expired (an expired row is deleted). */
  | { kind: 'none' };

interface SessionOptions {
  now: number;
  ttlMs: number;
}

/** The one lookup of a cookie token: its session and user, by the token's hash. */
async function findSessionRow(db: Database, token: string): Promise<Record<string, unknown> | null> {
  if (!token || token.length > 100) return null;
  const row = await db.get<Record<string, unknown>>(
    `SELECT s.id AS sessionId, s.expiresAt AS sessionExpiresAt, u.id, u.email, u.name, u.image, u.plan, u.role,
            u.disabled, u.generation_balance, u.generation_used, u.createdAt
     FROM sessions s JOIN users u ON u.id = s.userId
     WHERE s.token_hash = ?`,
    [hashSessionToken(token)],
  );
  return row ?? null;
}

/** The one rule: less than half the lifetime left → extended to a full one. */
function sessionVerdict(row: Record<string, unknown>, options: SessionOptions): 'disabled' | 'expired' | 'renew' | 'fresh' {
  const r = readRow('sessions', row);
  if (r.flag('disabled')) return 'disabled';
  const expiresAt = r.int('sessionExpiresAt');
  if (expiresAt <= options.now) return 'expired';
  return expiresAt - options.now < options.ttlMs / 2 ? 'renew' : 'fresh';
}

/**
 * Looks the cookie token up and acts on it: an expired row is deleted, a session past half
 * its lifetime is extended, and a disabled user's sessions are all deleted at the first
 * sight of any of them, so blocking someone takes effect on their next request.
 */
export async function checkSessionToken(db: Database, token: string, options: SessionOptions): Promise<SessionCheck> {
  const row = await findSessionRow(db, token);
  if (!row) return { kind: 'none' };
  const r = readRow('sessions', row);
  const sessionId = r.text('sessionId');
  const verdict = sessionVerdict(row, options);
  if (verdict === 'disabled') {
    const userId = r.text('id');
    await deleteUserSessions(db, userId);
    return { kind: 'disabled', userId };
  }
  if (verdict === 'expired') {
    await deleteSession(db, sessionId);
    return { kind: 'none' };
  }
  let expiresAt = r.int('sessionExpiresAt');
  if (verdict === 'renew') {
    expiresAt = options.now + options.ttlMs;
    await db.run('UPDATE sessions SET expiresAt = ? WHERE id = ?', [expiresAt, sessionId]);
  }
  const user = rowToUser(row);
  return { kind: 'valid', session: { id: sessionId, userId: user.id, expiresAt }, user, extended: verdict === 'renew' };
}

/**
 * The user of a cookie token when nothing has to change (a `fresh` session of an enabled
 * account), for the hot `/api/status` path. Null otherwise, and then `checkSessionToken`
 * (which deletes, extends and refreshes the cookie) must decide. NEVER writes.
 */
export async function peekSessionUser(db: Database, token: string, options: SessionOptions): Promise<User | null> {
  const row = await findSessionRow(db, token);
  return row && sessionVerdict(row, options) === 'fresh' ? rowToUser(row) : null;
}

/**
 * Whether a cookie token still signs an enabled user in, for a long-lived status stream that
 * re-checks its viewer (a sign-out or a block ends it). NEVER writes: the stream's cookie
 * cannot be refreshed anyway, and the next ordinary request acts on the session.
 */
export async function isSessionActive(db: Database, token: string, options: SessionOptions): Promise<boolean> {
  const row = await findSessionRow(db, token);
  if (!row) return false;
  const verdict = sessionVerdict(row, options);
  return verdict === 'fresh' || verdict === 'renew';
}

export async function deleteSession(db: Database, sessionId: string): Promise<void> {
  await db.run('DELETE FROM sessions WHERE id = ?', [sessionId]);
}

export async function deleteUserSessions(db: Database, userId: string): Promise<number> {
  return (await db.run('DELETE FROM sessions WHERE userId = ?', [userId])).changes;
}

export async function deleteExpiredSessions(db: Database, now: number): Promise<number> {
  return (await db.run('DELETE FROM sessions WHERE expiresAt <= ?', [now])).changes;
}
