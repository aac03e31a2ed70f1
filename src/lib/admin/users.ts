import { inTransaction, type Database } from '../db/database.ts';
import { badRequest, notFound } from '../errors.ts';
import { applyCreditChange, listLedgerEntries, type LedgerEntry } from '../billing/ledger.ts';
import { listUserPayments, type Payment } from '../billing/payment-store.ts';
import { getSubscription, setPlan, type Subscription } from '../billing/subscriptions.ts';
import { DURATIONS, GENERATION_MODES, GENERATION_STATUSES, ledgerRef, PLANS, type Plan } from '../model.ts';
import { readRow } from '../db/row.ts';
import { getUserByEmail, getUserById, rowToUser, setUserDisabled, type Role, type User } from '../auth/users.ts';
import { auditedAction, optionalReason, recordAdminAction, requireReason, type Actor } from './audit.ts';

/**
 * Users as admins see and change them. Every change writes its audit row in the same
 * transaction; balance changes go through the ledger (kind `admin_adjustment`, reference
 * `admin:<auditId>`), so the balance never drifts and never goes below zero.
 */

export type UserSort = 'created' | 'email' | 'name' | 'balance' | 'lastLogin';
export const USER_SORTS: UserSort[] = ['created', 'email', 'name', 'balance', 'lastLogin'];

const SORT_COLUMNS: Record<UserSort, string> = {
  created: 'createdAt',
  email: 'email',
  name: 'name',
  balance: 'generation_balance',
  lastLogin: 'COALESCE(lastLoginAt, 0)',
};

export interface UserListItem extends User {
  lastLoginAt: number | null;
}

export interface UserSearch {
  query?: string | null;
  sort?: UserSort;
  direction?: 'asc' | 'desc';
  role?: Role | null;
  disabled?: boolean | null;
  limit?: number;
  offset?: number;
}

export interface UserSearchResult {
  users: UserListItem[];
  total: number;
}

const LIST_COLUMNS =
  'id, email, name, image, plan, role, disabled, generation_balance, generation_used, createdAt, lastLoginAt';

function rowToListItem(row: Record<string, unknown>): UserListItem {
  return { ...rowToUser(row), lastLoginAt: readRow('users', row).intOrNull('lastLoginAt') };
}

/** `%` and `_` typed by the admin are literal characters, not wildcards. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Search by email, name or id (a substring, any case and alphabet), sorted and paged.
 * `unicode_lower` folds Cyrillic too: SQLite's connection registers it at open, PostgreSQL's
 * migration 0003 defines it.
 */
export async function searchUsers(db: Database, search: UserSearch = {}): Promise<UserSearchResult> {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  const query = search.query?.trim().toLowerCase();
  if (query) {
    where.push(`(unicode_lower(email) LIKE @q ESCAPE '\\' OR unicode_lower(name) LIKE @q ESCAPE '\\' OR id = @exact)`);
    params.q = likePattern(query);
    params.exact = search.query!.trim();
  }
  if (search.role) {
    where.push('role = @role');
    params.role = search.role;
  }
  if (search.disabled !== undefined && search.disabled !== null) {
    where.push('disabled = @disabled');
    params.disabled = search.disabled ? 1 : 0;
  }
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const sort = SORT_COLUMNS[search.sort ?? 'created'];
  const direction = search.direction === 'asc' ? 'ASC' : 'DESC';
  const total = (await db.value<number>(`SELECT COUNT(*) FROM users ${clause}`, params))!;
  const rows = await db.all<Record<string, unknown>>(
    `SELECT ${LIST_COLUMNS} FROM users ${clause} ORDER BY ${sort} ${direction}, id LIMIT @limit OFFSET @offset`,
    { ...params, limit: Math.max(1, Math.min(search.limit ?? 50, 200)), offset: Math.max(0, search.offset ?? 0) },
  );
  return { users: rows.map(rowToListItem), total };
}


export interface UserGenerationLine {
  id: string;
  status: string;
  mode: string;
  duration: number;
  cost: number;
  charged: boolean;
  refunded: boolean;
  errorStage: string | null;
  createdAt: number;
}

export interface UserDetail {
  user: UserListItem;
  authProvider: string;
  activeSessions: number;
  subscription: Subscription | null;
  ledger: LedgerEntry[];
  ledgerSum: number;
  generations: UserGenerationLine[];
  payments: Payment[];
}

export async function getUserDetail(db: Database, userId: string, now: number): Promise<UserDetail | null> {
  const row = await db.get<Record<string, unknown>>(`SELECT ${LIST_COLUMNS}, auth_provider FROM users WHERE id = ?`, [userId]);
  if (!row) return null;
  const generations = (
    await db.all<Record<string, unknown>>(
      `SELECT id, status, generation_mode, duration, cost, charged, refunded, error_stage, createdAt
       FROM generations WHERE userId = ? ORDER BY createdAt DESC LIMIT 100`,
      [userId],
    )
  ).map((g) => {
    const r = readRow('generations', g);
    return {
      id: r.text('id'),
      status: r.oneOf('status', GENERATION_STATUSES),
      mode: r.oneOf('generation_mode', GENERATION_MODES),
      duration: r.oneOf('duration', DURATIONS),
      cost: r.int('cost'),
      charged: r.flag('charged'),
      refunded: r.flag('refunded'),
      errorStage: r.textOrNull('error_stage'),
      createdAt: r.int('createdAt'),
    };
  });
  const [activeSessions, subscription, ledger, ledgerSum, payments] = await Promise.all([
    db.value<number>('SELECT COUNT(*) FROM sessions WHERE userId = ? AND expiresAt > ?', [userId, now]),
    getSubscription(db, userId),
    listLedgerEntries(db, userId, 200),
    db.value<number>('SELECT COALESCE(SUM(delta), 0) FROM credit_ledger WHERE userId = ?', [userId]),
    listUserPayments(db, userId, 100),
  ]);
  return {
    user: rowToListItem(row),
    authProvider: readRow('users', row).text('auth_provider'),
    activeSessions: activeSessions!,
    subscription,
    ledger,
    ledgerSum: ledgerSum!,
    generations,
    payments,
  };
}

async function requireUserRow(db: Database, userId: string): Promise<User> {
  const user = await getUserById(db, userId);
  if (!user) throw notFound('USER_NOT_FOUND');
  return user;
}

export interface ActionOptions {
  actor: Actor;
  now: number;
  /** The form's one-time key (or a JSON caller's Idempotency-Key). */
  requestKey?: string | null;
}

/** Largest single adjustment: a typo of a few extra digits must not mint a fortune. */
export const MAX_ADJUSTMENT = 100_000;

export interface BalanceAdjustment {
  auditId: number;
  balanceAfter: number;
  /** False when this request key was already used: nothing changed the second time. */
  applied: boolean;
}

/**
 * Adds or takes credits with a reason. The audit row and the ledger line (reference
 * `admin:<auditId>`) are written together; taking more than the balance is refused.
 */
export async function adjustBalance(
  db: Database,
  input: { userId: string; delta: number; reason: string } & ActionOptions,
): Promise<BalanceAdjustment> {
  if (!Number.isInteger(input.delta) || input.delta === 0 || Math.abs(input.delta) > MAX_ADJUSTMENT) {
    throw badRequest('ADMIN_DELTA_INVALID', 'delta', { max: MAX_ADJUSTMENT });
  }
  const reason = requireReason(input.reason);
  const entry = { actor: input.actor, action: 'user.adjust_balance', targetType: 'user', targetId: input.userId, reason, requestKey: input.requestKey, now: input.now } as const;
  return auditedAction<Omit<BalanceAdjustment, 'auditId'>>(db, entry, {
    replay: async (_seen, tx) => ({
      balanceAfter: (await tx.value<number>('SELECT generation_balance FROM users WHERE id = ?', [input.userId]))!,
      applied: false,
    }),
    change: async (auditId, tx) => {
      const user = await requireUserRow(tx, input.userId);
      if (user.balance + input.delta < 0) {
        throw badRequest('ADMIN_BALANCE_WOULD_BE_NEGATIVE', 'delta', { current: user.balance });
      }
      const { balanceAfter } = await applyCreditChange(tx, {
        userId: user.id,
        delta: input.delta,
        kind: 'admin_adjustment',
        reference: ledgerRef.adminAdjustment(auditId),
        note: reason,
        now: input.now,
      });
      return { outcome: { balanceAfter, applied: true }, detail: { delta: input.delta, balanceBefore: user.balance, balanceAfter } };
    },
  });
}

/**
 * Sets the user's plan and their subscription record (provider `manual`). A null expiry
 * means the plan does not expire.
 */
export async function setSubscription(
  db: Database,
  input: { userId: string; plan: Plan; isPaid: boolean; expiresAt: number | null; reason?: string | null } & ActionOptions,
): Promise<{ auditId: number; applied: boolean }> {
  if (!(PLANS as readonly string[]).includes(input.plan)) throw badRequest('ADMIN_PLAN_INVALID', 'plan');
  if (input.expiresAt !== null && (!Number.isSafeInteger(input.expiresAt) || input.expiresAt <= 0)) {
    throw badRequest('ADMIN_EXPIRY_INVALID', 'expiresAt');
  }
  const reason = optionalReason(input.reason);
  const entry = { actor: input.actor, action: 'user.set_subscription', targetType: 'user', targetId: input.userId, reason, requestKey: input.requestKey, now: input.now } as const;
  return auditedAction<{ applied: boolean }>(db, entry, {
    replay: () => ({ applied: false }),
    change: async (_auditId, tx) => {
      const user = await requireUserRow(tx, input.userId);
      const before = await getSubscription(tx, user.id);
      await setPlan(tx, { userId: user.id, plan: input.plan, isPaid: input.isPaid, expiresAt: input.expiresAt, provider: 'manual', now: input.now });
      const detail = {
        planBefore: user.plan,
        plan: input.plan,
        isPaid: input.isPaid,
        expiresAt: input.expiresAt,
        providerBefore: before?.provider ?? null,
      };
      return { outcome: { applied: true }, detail };
    },
  });
}

/**
 * Grants or removes the admin role. An admin cannot remove their own role from the panel
 * (the shell can), so nobody locks themselves out by a stray click.
 */
export async function setRole(
  db: Database,
  input: { userId: string; role: Role; reason: string } & ActionOptions,
): Promise<{ auditId: number; applied: boolean }> {
  if (input.role !== 'admin' && input.role !== 'user') throw badRequest('ADMIN_ROLE_INVALID', 'role');
  const reason = requireReason(input.reason);
  if (input.actor.kind === 'admin' && input.actor.id === input.userId && input.role !== 'admin') {
    throw badRequest('ADMIN_CANNOT_DEMOTE_SELF');
  }
  const action = input.role === 'admin' ? 'user.grant_admin' : 'user.revoke_admin';
  const entry = { actor: input.actor, action, targetType: 'user', targetId: input.userId, reason, requestKey: input.requestKey, now: input.now } as const;
  return auditedAction<{ applied: boolean }>(db, entry, {
    replay: () => ({ applied: false }),
    change: async (_auditId, tx) => {
      const user = await requireUserRow(tx, input.userId);
      const { changes: changed } = await tx.run('UPDATE users SET role = ?, updatedAt = ? WHERE id = ? AND role <> ?', [
        input.role,
        input.now,
        user.id,
        input.role,
      ]);
      return { outcome: { applied: changed === 1 }, detail: { email: user.email, roleBefore: user.role, changed: changed === 1 } };
    },
  });
}

/**
 * Disables or enables an account. Disabling deletes every session of the user in the same
 * transaction, so they lose access at once (the session check also refuses disabled users).
 */
export async function setDisabled(
  db: Database,
  input: { userId: string; disabled: boolean; reason: string } & ActionOptions,
): Promise<{ auditId: number; applied: boolean; sessionsEnded: number }> {
  const reason = requireReason(input.reason);
  if (input.actor.kind === 'admin' && input.actor.id === input.userId && input.disabled) {
    throw badRequest('ADMIN_CANNOT_DISABLE_SELF');
  }
  const action = input.disabled ? 'user.disable' : 'user.enable';
  const entry = { actor: input.actor, action, targetType: 'user', targetId: input.userId, reason, requestKey: input.requestKey, now: input.now } as const;
  return auditedAction<{ applied: boolean; sessionsEnded: number }>(db, entry, {
    replay: () => ({ applied: false, sessionsEnded: 0 }),
    change: async (_auditId, tx) => {
      const user = await requireUserRow(tx, input.userId);
      const sessionsEnded = input.disabled ? (await tx.value<number>('SELECT COUNT(*) FROM sessions WHERE userId = ?', [user.id]))! : 0;
      const changed = await setUserDisabled(tx, user.id, input.disabled, input.now);
      return { outcome: { applied: changed, sessionsEnded }, detail: { email: user.email, changed, sessionsEnded } };
    },
  });
}

export type GrantOutcome = 'promoted' | 'already_admin' | 'pending';

/**
 * `admin:grant <email>`: promotes the user with this email; when nobody has signed in with
 * it yet, the email waits in `pending_admins` and its first sign-in becomes an admin.
 */
export async function grantAdminByEmail(db: Database, input: { email: string; reason?: string | null } & ActionOptions): Promise<GrantOutcome> {
  const email = normalizeEmail(input.email);
  const reason = optionalReason(input.reason) ?? 'operator shell';
  const user = await getUserByEmail(db, email);
  if (user) {
    const result = await setRole(db, { userId: user.id, role: 'admin', reason, actor: input.actor, now: input.now, requestKey: input.requestKey });
    return result.applied ? 'promoted' : 'already_admin';
  }
  const entry = { actor: input.actor, action: 'admin.grant_pending', targetType: 'email', targetId: email, reason, now: input.now } as const;
  await auditedAction(db, entry, {
    replay: () => ({}),
    change: async (_auditId, tx) => {
      await tx.run(
        `INSERT INTO pending_admins (email, grantedBy, createdAt) VALUES (?, ?, ?)
         ON CONFLICT (email) DO NOTHING`,
        [email, input.actor.kind === 'cli' ? 'cli' : input.actor.email, input.now],
      );
      return { outcome: {} };
    },
  });
  return 'pending';
}

export type RevokeOutcome = 'revoked' | 'not_admin' | 'pending_removed' | 'unknown';

/** `admin:revoke <email>`: removes the role (or the waiting grant) for this email. */
export async function revokeAdminByEmail(db: Database, input: { email: string; reason?: string | null } & ActionOptions): Promise<RevokeOutcome> {
  const email = normalizeEmail(input.email);
  const reason = optionalReason(input.reason) ?? 'operator shell';
  const user = await getUserByEmail(db, email);
  const pendingRemoved = await inTransaction(db, async (tx) => {
    const { changes: removed } = await tx.run('DELETE FROM pending_admins WHERE email = ?', [email]);
    if (removed > 0) {
      await recordAdminAction(tx, { actor: input.actor, action: 'admin.revoke_pending', targetType: 'email', targetId: email, reason, now: input.now });
    }
    return removed > 0;
  });
  if (user) {
    const result = await setRole(db, { userId: user.id, role: 'user', reason, actor: input.actor, now: input.now, requestKey: input.requestKey });
    return result.applied ? 'revoked' : 'not_admin';
  }
  return pendingRemoved ? 'pending_removed' : 'unknown';
}

export async function listPendingAdmins(db: Database): Promise<Array<{ email: string; grantedBy: string; createdAt: number }>> {
  return db.all<{ email: string; grantedBy: string; createdAt: number }>('SELECT email, grantedBy, createdAt FROM pending_admins ORDER BY createdAt');
}

function normalizeEmail(email: string): string {
  const value = email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) || value.length > 320) throw badRequest('ADMIN_EMAIL_INVALID', 'email');
  return value;
}
