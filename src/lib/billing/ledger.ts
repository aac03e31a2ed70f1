import { inTransaction, type Db } from '../db/index.ts';
import { insufficientBalance, notFound } from '../errors.ts';
import { readRow } from '../db/row.ts';
import { LEDGER_KINDS, type LedgerKind } from '../model.ts';


export interface CreditChange {
  userId: string;
  /** Positive adds credits, negative takes them. Never zero. */
  delta: number;
  kind: LedgerKind;
  /** Unique per change (`hold:<generationId>`, `payment:<paymentId>` …): a repeat is a no-op. */
  reference: string;
  note?: string;
  now: number;
}

export interface CreditChangeResult {
  applied: boolean;
  balanceAfter: number;
}

export interface LedgerEntry {
  id: number;
  userId: string;
  delta: number;
  kind: LedgerKind;
  reference: string;
  balanceAfter: number;
  note: string | null;
  createdAt: number;
}

/**
 * The only way a balance changes: the ledger row and the cached `users.generation_balance`
 * move together in one transaction (joining the caller's, if any). A reference that was
 * already used changes nothing and reports `applied: false`. Taking more than the balance
 * throws INSUFFICIENT_BALANCE and changes nothing.
 */
export function applyCreditChange(db: Db, change: CreditChange): CreditChangeResult {
  if (!Number.isInteger(change.delta) || change.delta === 0) {
    throw new Error(`credit change must be a non-zero integer, got ${change.delta}`);
  }
  return inTransaction(db, () => {
    const current = db.prepare('SELECT generation_balance FROM users WHERE id = ?').pluck().get(change.userId) as
      | number
      | undefined;
    if (current === undefined) throw notFound('USER_NOT_FOUND');
    const seen = db.prepare('SELECT 1 FROM credit_ledger WHERE reference = ?').get(change.reference);
    if (seen) return { applied: false, balanceAfter: current };

    const balanceAfter = current + change.delta;
    if (balanceAfter < 0) throw insufficientBalance(-change.delta, current);
    db.prepare('UPDATE users SET generation_balance = ?, updatedAt = ? WHERE id = ?').run(
      balanceAfter,
      change.now,
      change.userId,
    );
    db.prepare(
      `INSERT INTO credit_ledger (userId, delta, kind, reference, balance_after, note, createdAt)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(change.userId, change.delta, change.kind, change.reference, balanceAfter, change.note ?? null, change.now);
    return { applied: true, balanceAfter };
  });
}

export function listLedgerEntries(db: Db, userId: string, limit = 100): LedgerEntry[] {
  const rows = db
    .prepare(
      `SELECT id, userId, delta, kind, reference, balance_after, note, createdAt
       FROM credit_ledger WHERE userId = ? ORDER BY id DESC LIMIT ?`,
    )
    .all(userId, limit) as Array<Record<string, unknown>>;
  return rows.map(rowToLedgerEntry);
}

/** The one mapper of `credit_ledger` rows. */
function rowToLedgerEntry(row: Record<string, unknown>): LedgerEntry {
  const r = readRow('credit_ledger', row);
  return {
    id: r.int('id'),
    userId: r.text('userId'),
    delta: r.int('delta'),
    kind: r.oneOf('kind', LEDGER_KINDS),
    reference: r.text('reference'),
    balanceAfter: r.int('balance_after'),
    note: r.textOrNull('note'),
    createdAt: r.int('createdAt'),
  };
}

export interface LedgerMismatch {
  userId: string;
  cachedBalance: number;
  ledgerSum: number;
}

/** Users whose cached balance differs from the sum of their ledger: must always be empty. */
export function findLedgerMismatches(db: Db): LedgerMismatch[] {
  return db
    .prepare(
      `SELECT u.id AS userId, u.generation_balance AS cachedBalance, COALESCE(SUM(l.delta), 0) AS ledgerSum
       FROM users u LEFT JOIN credit_ledger l ON l.userId = u.id
       GROUP BY u.id
       HAVING cachedBalance <> ledgerSum`,
    )
    .all() as LedgerMismatch[];
}
