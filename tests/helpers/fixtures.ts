import type { Database } from '../../src/lib/db/database.ts';
import { upsertUserFromIdentity, type User } from '../../src/lib/auth/users.ts';
import type { PaymentStatus } from '../../src/lib/model.ts';

/**
 * Named fixtures for tests that seed rows directly: a user signed up the way sign-in does it
 * (trial grant included), and payments in the states the admin pages and charts count.
 */

export interface UserFixture {
  email?: string;
  name?: string;
  /** The provider's account id (default: derived from the email). */
  subject?: string;
  /** Sign-up time; the trial grant is stamped with it. */
  now?: number;
  trialCredits?: number;
  adminEmails?: string[];
}

/** A user as the first sign-in makes them (by the sandbox OIDC provider), with the trial credits. */
export async function seedUser(db: Database, fixture: UserFixture = {}): Promise<User> {
  const email = fixture.email ?? 'seller@example.ru';
  const { user } = await upsertUserFromIdentity(
    db,
    { provider: 'oidc', subject: fixture.subject ?? `sub-${email}`, email, name: fixture.name ?? 'Seller', picture: null },
    { now: fixture.now ?? 1000, trialCredits: fixture.trialCredits ?? 3, adminEmails: fixture.adminEmails ?? [] },
  );
  return user;
}

export interface PaymentFixture {
  id: string;
  userId: string;
  /** Creation time (also the credit time of a paid one). */
  at: number;
  amountKopecks?: number;
  credits?: number;
  plan?: string;
  status?: PaymentStatus;
  externalPaymentId?: string | null;
  /** Credited; by default exactly when succeeded (a succeeded one not credited awaits review). */
  applied?: boolean;
  /** When YooKassa first answered 404 for it. */
  unknownSince?: number | null;
}

/** A payment row as the billing code would have left it; its idempotence key is its id. */
export async function seedPayment(db: Database, p: PaymentFixture): Promise<void> {
  const applied = (p.applied ?? p.status === 'succeeded') ? 1 : 0;
  await db.run(
    `INSERT INTO payments (id, userId, externalPaymentId, amount_kopecks, credits, status, plan, idempotence_key,
       applied, appliedAt, unknown_since, createdAt, updatedAt)
     VALUES (@id, @userId, @external, @amount, @credits, @status, @plan, @id, @applied, @appliedAt, @unknownSince, @at, @at)`,
    {
      id: p.id,
      userId: p.userId,
      external: p.externalPaymentId ?? null,
      amount: p.amountKopecks ?? 149000,
      credits: p.credits ?? 50,
      status: p.status ?? 'pending',
      plan: p.plan ?? 'basic',
      applied,
      appliedAt: applied ? p.at : null,
      unknownSince: p.unknownSince ?? null,
      at: p.at,
    },
  );
}

/** A payment YooKassa confirmed and we credited (Basic, 1490 ₽, 50 credits unless told). */
export function paidPayment(db: Database, p: Omit<PaymentFixture, 'status'>): Promise<void> {
  return seedPayment(db, { ...p, status: 'succeeded' });
}
