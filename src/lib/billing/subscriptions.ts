import type { Database } from '../db/database.ts';
import type { Plan } from '../model.ts';

/**
 * A user's plan and its subscription record, written together and only here: by a credited
 * payment (provider `yookassa`) and by an admin (provider `manual`). `users.plan` is what the
 * app reads; `admin_subscriptions` says where the plan came from and until when.
 */

export interface Subscription {
  plan: string;
  isPaid: boolean;
  expiresAt: number | null;
  provider: string;
  updatedAt: number | null;
}

export interface PlanChange {
  userId: string;
  plan: Plan;
  isPaid: boolean;
  /** Null: the plan does not expire. */
  expiresAt: number | null;
  provider: 'yookassa' | 'manual';
  now: number;
}

export async function getSubscription(db: Database, userId: string): Promise<Subscription | null> {
  const row = await db.get<{ plan: string; isPaid: number; expiresAt: number | null; provider: string; updatedAt: number | null }>(
    'SELECT plan, isPaid, expiresAt, provider, updatedAt FROM admin_subscriptions WHERE userId = ?',
    [userId],
  );
  return row ? { plan: row.plan, isPaid: row.isPaid === 1, expiresAt: row.expiresAt, provider: row.provider, updatedAt: row.updatedAt } : null;
}

/** Sets the plan and its subscription record. MUST run inside the caller's transaction (the payment or the audit row). */
export async function setPlan(db: Database, change: PlanChange): Promise<void> {
  await db.run('UPDATE users SET plan = ?, updatedAt = ? WHERE id = ?', [change.plan, change.now, change.userId]);
  await db.run(
    `INSERT INTO admin_subscriptions (userId, plan, isPaid, expiresAt, provider, updatedAt)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (userId) DO UPDATE SET plan = excluded.plan, isPaid = excluded.isPaid,
       expiresAt = excluded.expiresAt, provider = excluded.provider, updatedAt = excluded.updatedAt`,
    [change.userId, change.plan, change.isPaid ? 1 : 0, change.expiresAt, change.provider, change.now],
  );
}
