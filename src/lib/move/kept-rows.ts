import type { Database } from '../db/database.ts';
import { quoteIdentifier } from './shop-figures.ts';

/**
 * Copying into a target that already holds rows keeps the rows whose primary key is there
 * (`ON CONFLICT DO NOTHING`). Counts and totals alone would pass a kept row that is older than
 * the source's (a generation that finished after an earlier copy, a renamed user): so every
 * kept row is read back and compared column by column with the source row it stands for.
 */

export interface KeptRowsTable {
  name: string;
  /** Columns in the order the source rows hold them. */
  columns: readonly string[];
  primaryKey: readonly string[];
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * Sentences naming each difference between source rows of one batch and the target rows with
 * the same primary keys (empty: every target row equals its source row). A source row missing
 * from the target was kept out by another unique value (an email, a reference) of a row of its own.
 */
export async function differencesFromTarget(tx: Database, table: KeptRowsTable, rows: readonly unknown[][]): Promise<string[]> {
  const keyAt = table.primaryKey.map((column) => table.columns.indexOf(column));
  const keyOf = (values: readonly unknown[]) => JSON.stringify(values);
  const keyList = `(${table.primaryKey.map(quoteIdentifier).join(', ')})`;
  const placeholders = rows.map(() => `(${keyAt.map(() => '?').join(', ')})`).join(', ');
  const found = await tx.all<Record<string, unknown>>(
    `SELECT ${table.columns.map(quoteIdentifier).join(', ')} FROM ${quoteIdentifier(table.name)} WHERE ${keyList} IN (${placeholders})`,
    rows.flatMap((row) => keyAt.map((i) => row[i])),
  );
  const byKey = new Map(found.map((row) => [keyOf(table.primaryKey.map((column) => row[column])), row]));
  const differences: string[] = [];
  for (const row of rows) {
    const key = keyAt.map((i) => row[i]);
    const named = `${table.name} ${table.primaryKey.map((column, i) => `${column}=${shown(key[i])}`).join(' ')}`;
    const target = byKey.get(keyOf(key));
    if (!target) {
      differences.push(`${named}: not in the target, which holds another row with one of its unique values`);
      continue;
    }
    table.columns.forEach((column, i) => {
      if (target[column] !== row[i]) differences.push(`${named}: ${column} is ${shown(target[column])} in the target, ${shown(row[i])} in the source`);
    });
  }
  return differences;
}
