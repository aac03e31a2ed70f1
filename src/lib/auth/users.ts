import { inTransaction, type Db } from '../db/index.ts';
import { newId } from '../ids.ts';
import { applyCreditChange } from '../billing/ledger.ts';

export type Role = 'user' | 'admin';

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

export function rowToUser(row: Record<string, unknown>): User {
  return {
    id: row.id as string,
    email: row.email as string,
    name: row.name as string,
    image: (row.image as string | null) ?? null,
    plan: row.plan as string,
    role: row.role as Role,
    disabled: row.disabled === 1,
    balance: row.generation_balance as number,
    used: row.generation_used as number,
    createdAt: row.createdAt as number,
  };
}

export function getUserById(db: Db, id: string): User | null {
  const row = db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id) as Record<string, unknown> | undefined;
  return row ? rowToUser(row) : null;
}

export function getUserByEmail(db: Db, email: string): User | null {
  const row = db.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE email = ?`).get(email.toLowerCase()) as
    | Record<string, unknown>
    | undefined;
  return row ? rowToUser(row) : null;
}

/**
 * Finds the user for a provider identity or creates one. A new user gets the trial credits
 * through the ledger (reference `trial:<userId>`, so it can happen only once) and the admin
 * role when the email is listed in ADMIN_EMAILS.
 */
export function upsertUserFromIdentity(db: Db, identity: Identity, policy: SignInPolicy): { user: User; created: boolean } {
  const email = identity.email.toLowerCase();
  const isListedAdmin = policy.adminEmails.includes(email);
  return inTransaction(db, () => {
    const existing = db
      .prepare(`SELECT id FROM users WHERE auth_provider = ? AND auth_subject = ?`)
      .pluck()
      .get(identity.provider, identity.subject) as string | undefined;
    if (existing) {
      db.prepare(
        `UPDATE users SET email = ?, name = COALESCE(?, name), image = COALESCE(?, image),
           role = CASE WHEN ? THEN 'admin' ELSE role END, lastLoginAt = ?, updatedAt = ? WHERE id = ?`,
      ).run(email, identity.name, identity.picture, isListedAdmin ? 1 : 0, policy.now, policy.now, existing);
      return { user: getUserById(db, existing)!, created: false };
    }
    const id = newId('usr', policy.now);
    db.prepare(
      `INSERT INTO users (id, email, name, image, role, auth_provider, auth_subject, consentAt, lastLoginAt, createdAt, updatedAt)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      email,
      identity.name ?? email.split('@')[0],
      identity.picture,
      isListedAdmin ? 'admin' : 'user',
      identity.provider,
      identity.subject,
      policy.now,
      policy.now,
      policy.now,
      policy.now,
    );
    if (policy.trialCredits > 0) {
      applyCreditChange(db, {
        userId: id,
        delta: policy.trialCredits,
        kind: 'trial',
        reference: `trial:${id}`,
        note: 'Пробные кредиты при регистрации',
        now: policy.now,
      });
    }
    return { user: getUserById(db, id)!, created: true };
  });
}
