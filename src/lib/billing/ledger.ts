import { inTransaction, type Database } from '../db/database.ts';
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
 * move together in one transaction (a savepoint of the caller's, if any). A reference that was
 * already used changes nothing and reports `applied: false`. Taking more than the balance
 * throws INSUFFICIENT_BALANCE and changes nothing.
 */
export async function applyCreditChange(db: Database, change: CreditChange): Promise<CreditChangeResult> {
  if (!Number.isInteger(change.delta) || change.delta === 0) {
    throw new Error(`credit change must be a non-zero integer, got ${change.delta}`);
  }
  return inTransaction(db, async (tx) => {
    const current = await tx.value<number>('SELECT generation_balance FROM users WHERE id = ?', [change.userId]);
    if (current === undefined) throw notFound('USER_NOT_FOUND');
    const seen = await tx.get('SELECT 1 FROM credit_ledger WHERE reference = ?', [change.reference]);
    if (seen) return { applied: false, balanceAfter: current };

    const balanceAfter = current + change.delta;
    if (balanceAfter < 0) throw insufficientBalance(-change.delta, current);
    await tx.run('UPDATE users SET generation_balance = ?, updatedAt = ? WHERE id = ?', [balanceAfter, change.now, change.userId]);
    await tx.run(
      `INSERT INTO credit_ledger (userId, delta, kind, reference, balance_after, note, createdAt)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [change.userId, change.delta, change.kind, change.reference, balanceAfter, change.note ?? null, change.now],
    );
    return { applied: true, balanceAfter };
  });
}

export async function listLedgerEntries(db: Database, userId: string, limit = 100): Promise<LedgerEntry[]> {
  const rows = await db.all<Record<string, unknown>>(
    `SELECT id, userId, delta, kind, reference, balance_after, note, createdAt
     FROM credit_ledger WHERE userId = ? ORDER BY id DESC LIMIT ?`,
    [userId, limit],
  );
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
export async function findLedgerMismatches(db: Database): Promise<LedgerMismatch[]> {
  return db.all<LedgerMismatch>(
    `SELECT u.id AS userId, u.generation_balance AS cachedBalance, COALESCE(SUM(l.delta), 0) AS ledgerSum
     FROM users u LEFT JOIN credit_ledger l ON l.userId = u.id
     GROUP BY u.id, u.generation_balance
     HAVING u.generation_balance <> COALESCE(SUM(l.delta), 0)`,
  );
}
