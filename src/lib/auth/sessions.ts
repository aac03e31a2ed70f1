import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/index.ts';
import { newId } from '../ids.ts';
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
export function createSession(
  db: Db,
  userId: string,
  options: { now: number; ttlMs: number; userAgent?: string | null; ip?: string | null },
): { token: string; session: Session } {
  const token = randomBytes(32).toString('base64url');
  const session: Session = { id: newId('ses', options.now), userId, expiresAt: options.now + options.ttlMs };
  db.prepare(
    `INSERT INTO sessions (id, userId, token_hash, expiresAt, createdAt, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    session.id,
    userId,
    hashSessionToken(token),
    session.expiresAt,
    options.now,
    options.userAgent?.slice(0, 300) ?? null,
    options.ip ?? null,
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

/**
 * Looks the cookie token up by its hash. Less than half the lifetime left → extended to a
 * full one. A disabled user's sessions are all deleted at the first sight of any of them,
 * so blocking someone takes effect on their next request.
 */
export function checkSessionToken(db: Db, token: string, options: { now: number; ttlMs: number }): SessionCheck {
  if (!token || token.length > 100) return { kind: 'none' };
  const row = db
    .prepare(
      `SELECT s.id AS sessionId, s.expiresAt AS sessionExpiresAt, u.id, u.email, u.name, u.image, u.plan, u.role,
              u.disabled, u.generation_balance, u.generation_used, u.createdAt
       FROM sessions s JOIN users u ON u.id = s.userId
       WHERE s.token_hash = ?`,
    )
    .get(hashSessionToken(token)) as Record<string, unknown> | undefined;
  if (!row) return { kind: 'none' };
  const sessionId = row.sessionId as string;
  if (row.disabled === 1) {
    deleteUserSessions(db, row.id as string);
    return { kind: 'disabled', userId: row.id as string };
  }
  let expiresAt = row.sessionExpiresAt as number;
  if (expiresAt <= options.now) {
    db.prepare('DELETE FROM sessions WHERE id = ?').run(sessionId);
    return { kind: 'none' };
  }
  let extended = false;
  if (expiresAt - options.now < options.ttlMs / 2) {
    expiresAt = options.now + options.ttlMs;
    db.prepare('UPDATE sessions SET expiresAt = ? WHERE id = ?').run(expiresAt, sessionId);
    extended = true;
  }
  const user = rowToUser(row);
  return { kind: 'valid', session: { id: sessionId, userId: user.id, expiresAt }, user, extended };
}

/**
 * The user of a cookie token when nothing has to change: a live session with more than half
 * its lifetime left, of an enabled account. Null otherwise, and then `checkSessionToken`
 * (which deletes, extends and refreshes the cookie) must decide. Never writes.
 */
export function peekSessionUser(db: Db, token: string, options: { now: number; ttlMs: number }): User | null {
  if (!token || token.length > 100) return null;
  const row = db
    .prepare(
      `SELECT s.expiresAt AS sessionExpiresAt, u.id, u.email, u.name, u.image, u.plan, u.role,
              u.disabled, u.generation_balance, u.generation_used, u.createdAt
       FROM sessions s JOIN users u ON u.id = s.userId
       WHERE s.token_hash = ?`,
    )
    .get(hashSessionToken(token)) as Record<string, unknown> | undefined;
  if (!row || row.disabled === 1) return null;
  if ((row.sessionExpiresAt as number) - options.now < options.ttlMs / 2) return null;
  return rowToUser(row);
}

/** The session and user for a cookie token, or null (see `checkSessionToken`). */
export function validateSessionToken(
  db: Db,
  token: string,
  options: { now: number; ttlMs: number },
): ValidatedSession | null {
  const check = checkSessionToken(db, token, options);
  return check.kind === 'valid' ? { session: check.session, user: check.user, extended: check.extended } : null;
}

export function deleteSession(db: Db, sessionId: string): void {
  db.prepare('DELETE FROM sessions WHERE id = ?').run(sessionId);
}

export function deleteUserSessions(db: Db, userId: string): number {
  return db.prepare('DELETE FROM sessions WHERE userId = ?').run(userId).changes;
}

export function deleteExpiredSessions(db: Db, now: number): number {
  return db.prepare('DELETE FROM sessions WHERE expiresAt <= ?').run(now).changes;
}
