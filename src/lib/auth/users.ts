import { inTransaction, type Database } from '../db/database.ts';
import { newId } from '../ids.ts';
import { readRow } from '../db/row.ts';
import { applyCreditChange } from '../billing/ledger.ts';
import { ledgerRef } from '../model.ts';
import { claimPendingAdmin } from './pending-admins.ts';
import { deleteUserSessions } from './sessions.ts';

export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  email: string;
  name: string;
  image: string | null;
  plan: string;
  role: Role;
  disabled: boolean;
  balance: number;
  used: number;
  createdAt: number;
}

/** What a sign-in provider tells us about a person (email already checked as verified). */
export interface Identity {
  provider: string;
  subject: string;
  email: string;
  name: string | null;
  picture: string | null;
}

export interface SignInPolicy {
  now: number;
  trialCredits: number;
  adminEmails: string[];
}

const USER_COLUMNS = 'id, email, name, image, plan, role, disabled, generation_balance, generation_used, createdAt';

/** The one mapper of `users` rows (USER_COLUMNS, or a query that selects at least those). */
export function rowToUser(row: Record<string, unknown>): User {
  const r = readRow('users', row);
  return {
    id: r.text('id'),
    email: r.text('email'),
    name: r.text('name'),
    image: r.textOrNull('image'),
    plan: r.text('plan'),
    role: r.oneOf('role', ROLES),
    disabled: r.flag('disabled'),
    balance: r.int('generation_balance'),
    used: r.int('generation_used'),
    createdAt: r.int('createdAt'),
  };
}

export async function getUserById(db: Database, id: string): Promise<User | null> {
  const row = await db.get<Record<string, unknown>>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]);
  return row ? rowToUser(row) : null;
}

export async function getUserByEmail(db: Database, email: string): Promise<User | null> {
  const row = await db.get<Record<string, unknown>>(`SELECT ${USER_COLUMNS} FROM users WHERE email = ?`, [email.toLowerCase()]);
  return row ? rowToUser(row) : null;
}

export interface UpsertResult {
  user: User;
  created: boolean;
  /** An existing account (same verified email) now signs in with this provider identity. */
  linked: boolean;
}

/**
 * Finds the user for a provider identity or creates one, in one transaction.
 * - Known (provider, subject): the profile follows the provider (a changed email too,
 *   unless another account already uses it — then the old address stays).
 * - Unknown identity, but an account with the same (provider-verified) email: that account
 *   is linked to this identity, so switching OAUTH_PROVIDER keeps everyone's credits.
 * - Otherwise a new user with the trial credits through the ledger (reference
 *   `trial:<userId>`, so it can happen only once) and consent time recorded.
 * Emails in ADMIN_EMAILS, or granted with `admin:grant` before their first sign-in, get the
 * admin role (never taken away here: admins granted on the admin page stay admins).
 */
export async function upsertUserFromIdentity(db: Database, identity: Identity, policy: SignInPolicy): Promise<UpsertResult> {
  const email = identity.email.toLowerCase();
  const isListedAdmin = policy.adminEmails.includes(email);
  return inTransaction(db, async (tx) => {
    const known = await tx.get<{ id: string; email: string }>(`SELECT id, email FROM users WHERE auth_provider = ? AND auth_subject = ?`, [
      identity.provider,
      identity.subject,
    ]);
    const sameEmail = await tx.value<string>('SELECT id FROM users WHERE email = ?', [email]);
    const existing = known?.id ?? sameEmail;
    if (existing) {
      const emailFree = sameEmail === undefined || sameEmail === existing;
      const becomesAdmin = emailFree && (isListedAdmin || (await claimPendingAdmin(tx, email)));
      await tx.run(
        `UPDATE users SET email = ?, name = COALESCE(?, name), image = COALESCE(?, image),
           auth_provider = ?, auth_subject = ?,
           role = CASE WHEN ? = 1 THEN 'admin' ELSE role END, lastLoginAt = ?, updatedAt = ? WHERE id = ?`,
        [
          emailFree ? email : known!.email,
          identity.name,
          identity.picture,
          identity.provider,
          identity.subject,
          becomesAdmin ? 1 : 0,
          policy.now,
          policy.now,
          existing,
        ],
      );
      return { user: (await getUserById(tx, existing))!, created: false, linked: known === undefined };
    }
    const id = newId('usr', policy.now);
    const role = isListedAdmin || (await claimPendingAdmin(tx, email)) ? 'admin' : 'user';
    await tx.run(
      `INSERT INTO users (id, email, name, image, role, auth_provider, auth_subject, consentAt, lastLoginAt, createdAt, updatedAt)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        email,
        identity.name ?? email.split('@')[0],
        identity.picture,
        role,
        identity.provider,
        identity.subject,
        policy.now,
        policy.now,
        policy.now,
        policy.now,
      ],
    );
    if (policy.trialCredits > 0) {
      await applyCreditChange(tx, {
        userId: id,
        delta: policy.trialCredits,
        kind: 'trial',
        reference: ledgerRef.trial(id),
        note: 'Пробные кредиты при регистрации',
        now: policy.now,
      });
    }
    return { user: (await getUserById(tx, id))!, created: true, linked: false };
  });
}

/**
 * Blocks or unblocks an account. Blocking deletes every session in the same transaction,
 * so the person is signed out everywhere at once. Returns false when nothing changed.
 */
export async function setUserDisabled(db: Database, userId: string, disabled: boolean, now: number): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const changed =
      (
        await tx.run('UPDATE users SET disabled = ?, updatedAt = ? WHERE id = ? AND disabled = ?', [
          disabled ? 1 : 0,
          now,
          userId,
          disabled ? 0 : 1,
        ])
      ).changes === 1;
    if (disabled) await deleteUserSessions(tx, userId);
    return changed;
  });
}
