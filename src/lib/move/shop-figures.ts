import { findLedgerMismatches } from '../billing/ledger.ts';
import type { Database } from '../db/database.ts';

/**
 * The figures that say two copies of a shop hold the same money and the same rows, read
 * through the data seam so one function serves SQLite and PostgreSQL alike: rows per table,
 * the totals of the money columns, and the ledger rule (every cached balance equals the sum
 * of its ledger lines).
 */

/** Columns whose sums are money or credits; the totals the move compares side by side. */
export const MONEY_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  users: ['generation_balance', 'generation_used'],
  credit_ledger: ['delta'],
  payments: ['amount_kopecks', 'credits'],
  generations: ['cost'],
};

export interface TableFigures {
  table: string;
  rows: number;
  /** Sum per money column (MONEY_COLUMNS), 0 for an empty table. */
  totals: Record<string, number>;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export async function readTableFigures(db: Database, table: string): Promise<TableFigures> {
  const money = MONEY_COLUMNS[table] ?? [];
  const sums = money.map((column, i) => `, COALESCE(SUM(${quoteIdentifier(column)}), 0) AS t${i}`).join('');
  const row = (await db.get<Record<string, number>>(`SELECT COUNT(*) AS n${sums} FROM ${quoteIdentifier(table)}`))!;
  return { table, rows: row.n!, totals: Object.fromEntries(money.map((column, i) => [column, row[`t${i}`]!])) };
}

/** Sentences naming every figure that differs between the two sides (empty: they agree). */
export function compareFigures(source: readonly TableFigures[], target: readonly TableFigures[]): string[] {
  const differences: string[] = [];
  for (const mine of source) {
    const theirs = target.find((t) => t.table === mine.table);
    if (!theirs) {
      differences.push(`${mine.table}: not counted on the target`);
      continue;
    }
    if (mine.rows !== theirs.rows) differences.push(`${mine.table}: ${mine.rows} rows in the source, ${theirs.rows} in the target`);
    for (const [column, total] of Object.entries(mine.totals)) {
      if (theirs.totals[column] !== total) {
        differences.push(`${mine.table}.${column}: total ${total} in the source, ${theirs.totals[column]} in the target`);
      }
    }
  }
  return differences;
}

/** At most this many users are named in a ledger report; the count says how many there are. */
export const LEDGER_REPORT_LIMIT = 20;

/** Users whose balance is not the sum of their ledger, as sentences (empty: the ledger holds). */
export async function ledgerProblems(db: Database): Promise<string[]> {
  const mismatches = await findLedgerMismatches(db);
  const named = mismatches
    .slice(0, LEDGER_REPORT_LIMIT)
    .map((m) => `user ${m.userId}: balance ${m.cachedBalance}, ledger sum ${m.ledgerSum}`);
  if (mismatches.length > LEDGER_REPORT_LIMIT) named.push(`… and ${mismatches.length - LEDGER_REPORT_LIMIT} more users`);
  return named;
}
