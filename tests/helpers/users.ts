import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../src/lib/context.ts';
import { upsertUserFromIdentity, getUserById, type User } from '../../src/lib/auth/users.ts';
import { createSession, SESSION_COOKIE } from '../../src/lib/auth/sessions.ts';
import { applyCreditChange } from '../../src/lib/billing/ledger.ts';
import { seedPayment } from './fixtures.ts';

export interface SignedInUser {
  user: User;
  /** Value for a `Cookie` header. */
  cookie: string;
}

/**
 * A user with a live session, made through the same service functions sign-in uses
 * (trial grant included). `balance` sets the final balance through an admin ledger line.
 * Tests of the sign-in flow itself go through the sandbox OIDC provider instead.
 */
export async function createSignedInUser(
  ctx: AppContext,
  options: { email?: string; name?: string; balance?: number; role?: 'user' | 'admin' } = {},
): Promise<SignedInUser> {
  const email = options.email ?? `seller-${randomUUID().slice(0, 8)}@example.ru`;
  const now = ctx.clock.now();
  const { user } = await upsertUserFromIdentity(
    ctx.db,
    { provider: 'oidc', subject: `sub-${email}`, email, name: options.name ?? 'Продавец', picture: null },
    { now, trialCredits: ctx.config.pricing.trialCredits, adminEmails: ctx.config.auth.adminEmails },
  );
  if (options.role) await ctx.db.run('UPDATE users SET role = ? WHERE id = ?', [options.role, user.id]);
  if (options.balance !== undefined && options.balance !== user.balance) {
    await applyCreditChange(ctx.db, {
      userId: user.id,
      delta: options.balance - user.balance,
      kind: 'admin_adjustment',
      reference: `test-balance:${user.id}:${randomUUID()}`,
      now,
    });
  }
  const { token } = await createSession(ctx.db, user.id, { now, ttlMs: ctx.config.session.ttlMs });
  return { user: (await getUserById(ctx.db, user.id))!, cookie: `${SESSION_COOKIE}=${token}` };
}

/** A failed generation and a failed payment of `userId`: what the admin pages list about a user. */
export async function seedAdminTargets(ctx: AppContext, userId: string, ids: { generationId: string; paymentId: string }): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.run(
    `INSERT INTO generations (id, userId, status, step, duration, cost, prompt, generation_mode, createdAt, updatedAt)
     VALUES (?, ?, 'failed', 'done', 6, 1, 'кофе', 'prompt', ?, ?)`,
    [ids.generationId, userId, now, now],
  );
  await seedPayment(ctx.db, { id: ids.paymentId, userId, status: 'failed', at: now });
}
