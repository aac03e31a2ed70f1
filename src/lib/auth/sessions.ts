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

/**
 * Looks the cookie token up by its hash. Expired sessions and sessions of disabled users
 * are deleted and answer null. Less than half the lifetime left → extended to a full one.
 */
export function validateSessionToken(
  db: Db,
  token: string,
  options: { now: number; ttlMs: number },
): ValidatedSession | null {
  if (!token || token.length > 100) return null;
  const row = db
    .prepare(
      `SELECT s.id AS sessionId, s.expiresAt AS sessionExpiresAt, u.id, u.email, u.name, u.image, u.plan, u.role,
              u.disabled, u.generation_balance, u.generation_used, u.createdAt
       FROM sessions s JOIN users u ON u.id = s.userId
       WHERE s.token_hash = ?`,
    )
    .get(hashSessionToken(token)) as Record<string, unknown> | undefined;
  if (!row) return null;
  const sessionId = row.sessionId as string;
  let expiresAt = row.sessionExpiresAt as number;
  if (expiresAt <= options.now || row.disabled === 1) {
    db.prepare('DELETE FROM sessions WHERE id = ?').run(sessionId);
    return null;
  }
  let extended = false;
  if (expiresAt - options.now < options.ttlMs / 2) {
    expiresAt = options.now + options.ttlMs;
    db.prepare('UPDATE sessions SET expiresAt = ? WHERE id = ?').run(expiresAt, sessionId);
    extended = true;
  }
  const user = rowToUser(row);
  return { session: { id: sessionId, userId: user.id, expiresAt }, user, extended };
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
