import { inTransaction, type Database } from '../db/database.ts';
import { migratePostgres } from '../db/migrate-postgres.ts';
import { differencesFromTarget } from './kept-rows.ts';
import { MoveError } from './move-error.ts';
import { compareFigures, ledgerProblems, quoteIdentifier, readTableFigures, type TableFigures } from './shop-figures.ts';
import type { SourceTable, SqliteSnapshot } from './sqlite-snapshot.ts';

/**
 * Copies a Beem shop from its SQLite file into PostgreSQL (`npm run migrate:to-postgres`):
 * every table, parents first, in batches, with ids kept, in one PostgreSQL transaction that
 * commits only after the checks prove both sides equal.
 *
 * Before: the source must be at this code's schema (sqlite-snapshot.ts), its ledger must hold
 * (every balance equals the sum of its ledger lines), no row may point at a missing parent and
 * whole-number columns must hold whole numbers; otherwise nothing is written. The target is migrated, and must be empty unless
 * `intoNonEmpty`: then rows whose primary key is already there are kept as they are, only the
 * missing ones are copied, and every kept row must equal its source row (kept-rows.ts), so a
 * re-run after a copy that committed is a no-op and a target that drifted is refused.
 * After, in the same transaction: identity sequences continue after the copied ids, the rows
 * and money totals of every table are the same on both sides, the target's ledger holds, and
 * the source did not change during the copy. Any difference rolls everything back.
 */

export interface CopyToPostgresOptions {
  source: SqliteSnapshot;
  /** A PostgreSQL database (the seam). */
  target: Database;
  /** Copy into a target that already holds rows (only the missing ones are added). */
  intoNonEmpty: boolean;
  /** Rows per read and per INSERT (fewer when a table's columns would pass PostgreSQL's parameter limit). */
  batchRows?: number;
  /** Recorded with the target's migrations. */
  now?: number;
  /** Told each table as it is copied. */
  onTable?: (copy: TableCopy) => void;
}

export interface TableCopy {
  table: string;
  /** Rows in the source. */
  rows: number;
  /** Rows inserted into the target. */
  copied: number;
  /** Rows whose primary key the target already had (left as they were, and compared with the source). */
  kept: number;
  /** Values of kept rows that differ from the source. */
  differing: number;
  /** The first of them, named. */
  differences: string[];
}

export interface CopyReport {
  schemaVersion: number;
  tables: TableCopy[];
  /** The figures both sides agreed on. */
  figures: TableFigures[];
  /** Where each identity sequence continues. */
  sequences: Array<{ table: string; column: string; next: number }>;
}

export const DEFAULT_BATCH_ROWS = 500;
/** Differing kept rows named in a report; the count says how many there are. */
const REPORT_LIMIT = 20;
/** PostgreSQL binds at most 65,535 parameters per statement. */
const MAX_PARAMETERS = 65_535;

interface TargetColumn {
  name: string;
  identity: 'ALWAYS' | 'BY DEFAULT' | null;
}

interface PlannedTable {
  source: SourceTable;
  /** The target's columns in its order; each is read from the source under the same name (`rowid` included). */
  columns: TargetColumn[];
}

export async function copyShopToPostgres(options: CopyToPostgresOptions): Promise<CopyReport> {
  const { source, target } = options;
  if (target.dialect !== 'postgres') throw new Error(`the move's target must be PostgreSQL, got ${target.dialect}`);

  const ledger = await ledgerProblems(source.db);
  if (ledger.length > 0) {
    throw new MoveError(
      'SOURCE_INCONSISTENT',
      'Before copying: a balance in the SQLite file is not the sum of its ledger, so nothing was copied. ' +
        'Find out why (Admin → overview shows the count) and correct it with a ledgered admin adjustment first.',
      ledger,
    );
  }
  const orphans = source.foreignKeyProblems();
  if (orphans.length > 0) {
    throw new MoveError('SOURCE_INCONSISTENT', 'Before copying: rows in the SQLite file point at rows that do not exist; PostgreSQL would refuse them. Nothing was copied.', orphans);
  }
  const mistyped = source.typeProblems();
  if (mistyped.length > 0) {
    throw new MoveError('SOURCE_INCONSISTENT', 'Before copying: whole-number columns of the SQLite file hold other values; PostgreSQL would refuse them. Nothing was copied.', mistyped);
  }
  const sourceFigures: TableFigures[] = [];
  for (const table of source.tables) sourceFigures.push(await readTableFigures(source.db, table.name));

  await migratePostgres(target, undefined, options.now);
  const plan = await planTables(target, source.tables);
  const occupied: string[] = [];
  for (const { source: table } of plan) {
    const rows = (await target.value<number>(`SELECT COUNT(*) FROM ${quoteIdentifier(table.name)}`))!;
    if (rows > 0) occupied.push(`${table.name}: ${rows} rows`);
  }
  if (occupied.length > 0 && !options.intoNonEmpty) {
    throw new MoveError(
      'TARGET_NOT_EMPTY',
      'The PostgreSQL database already holds a shop, so nothing was copied. If it is an earlier copy of this same file, ' +
        'run again with --into-non-empty: rows already there are kept, the missing ones are copied, and the checks must then find both sides equal.',
      occupied,
    );
  }

  return inTransaction(target, async (tx) => {
    const tables: TableCopy[] = [];
    for (const table of plan) {
      const copy = await copyTable(source, tx, table, options.batchRows ?? DEFAULT_BATCH_ROWS);
      tables.push(copy);
      options.onTable?.(copy);
    }
    const sequences = await continueSequences(tx, plan);

    const targetFigures: TableFigures[] = [];
    for (const { source: table } of plan) targetFigures.push(await readTableFigures(tx, table.name));
    const stale = tables.flatMap((t) => t.differences).slice(0, REPORT_LIMIT);
    const differing = tables.reduce((sum, t) => sum + t.differing, 0);
    const differences = [
      ...compareFigures(sourceFigures, targetFigures),
      ...(await ledgerProblems(tx)).map((line) => `target ${line}`),
      ...stale,
      ...(differing > stale.length ? [`… and ${differing - stale.length} more differing values in rows the target already had`] : []),
    ];
    if (differences.length > 0) {
      throw new MoveError(
        'CHECK_FAILED',
        'After copying, the PostgreSQL side differs from the SQLite file, so the copy was rolled back and nothing was written. ' +
          'A target that already held rows must hold the same shop; to copy afresh, empty the PostgreSQL database (drop and create it) and run again.',
        differences,
      );
    }
    if (source.end().changed) {
      throw new MoveError('SOURCE_CHANGED', 'The SQLite file changed while it was copied (is Beem still running on it?). The copy was rolled back: stop Beem and run again.');
    }
    return { schemaVersion: source.schemaVersion, tables, figures: targetFigures, sequences };
  });
}

/** The target's columns of each source table; refuses a table or column the two schemas do not share. */
async function planTables(target: Database, tables: readonly SourceTable[]): Promise<PlannedTable[]> {
  const problems: string[] = [];
  const plan: PlannedTable[] = [];
  for (const table of tables) {
    const columns = (
      await target.all<{ name: string; is_identity: string; identity_generation: string | null }>(
        `SELECT column_name AS name, is_identity, identity_generation FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
        [table.name],
      )
    ).map((c): TargetColumn => ({ name: c.name, identity: c.is_identity === 'YES' ? (c.identity_generation as TargetColumn['identity']) : null }));
    if (columns.length === 0) {
      problems.push(`${table.name}: no such table in PostgreSQL`);
      continue;
    }
    const names = columns.map((c) => c.name);
    // `rowid` is SQLite's implicit row id, which PostgreSQL's schema makes an explicit column (uploads, payments).
    const unknown = names.filter((name) => !table.columns.includes(name) && name !== 'rowid');
    const missing = table.columns.filter((name) => !names.includes(name));
    if (unknown.length > 0) problems.push(`${table.name}: PostgreSQL has columns the SQLite file lacks (${unknown.join(', ')})`);
    if (missing.length > 0) problems.push(`${table.name}: PostgreSQL lacks columns of the SQLite file (${missing.join(', ')})`);
    if (table.primaryKey.length === 0) problems.push(`${table.name}: no primary key, so a row already in PostgreSQL cannot be told from a new one`);
    plan.push({ source: table, columns });
  }
  if (problems.length > 0) {
    throw new MoveError('TARGET_SCHEMA_MISMATCH', 'The PostgreSQL schema does not match the SQLite file, so nothing was copied.', problems);
  }
  return plan;
}

function insertStatement(table: PlannedTable, rows: number): string {
  const columns = table.columns.map((c) => quoteIdentifier(c.name)).join(', ');
  const row = `(${table.columns.map(() => '?').join(', ')})`;
  // GENERATED ALWAYS identities (uploads.rowid, payments.rowid) take a given value only when told to.
  const overriding = table.columns.some((c) => c.identity === 'ALWAYS') ? ' OVERRIDING SYSTEM VALUE' : '';
  return `INSERT INTO ${quoteIdentifier(table.source.name)} (${columns})${overriding} VALUES ${Array(rows).fill(row).join(', ')} ON CONFLICT DO NOTHING`;
}

async function copyTable(source: SqliteSnapshot, tx: Database, table: PlannedTable, batchRows: number): Promise<TableCopy> {
  const size = Math.max(1, Math.min(batchRows, Math.floor(MAX_PARAMETERS / table.columns.length)));
  const full = insertStatement(table, size);
  const names = table.columns.map((c) => c.name);
  let rows = 0;
  let copied = 0;
  const differences: string[] = [];
  let differing = 0;
  for (const batch of source.batches(table.source.name, names, size)) {
    const sql = batch.length === size ? full : insertStatement(table, batch.length);
    let inserted: number;
    try {
      inserted = (await tx.run(sql, batch.flat())).changes;
    } catch (err) {
      throw new Error(`copying ${table.source.name} (rows ${rows + 1}–${rows + batch.length} in rowid order): ${(err as Error).message}`, { cause: err });
    }
    if (inserted < batch.length) {
      const found = await differencesFromTarget(tx, { name: table.source.name, columns: names, primaryKey: table.source.primaryKey }, batch);
      differing += found.length;
      differences.push(...found.slice(0, REPORT_LIMIT - differences.length));
    }
    copied += inserted;
    rows += batch.length;
  }
  return { table: table.source.name, rows, copied, kept: rows - copied, differing, differences };
}

/**
 * Moves each identity sequence past the ids now in the table (and past SQLite's AUTOINCREMENT
 * high-water mark), so the next row PostgreSQL makes gets a new id instead of a duplicate.
 * Beem's tables have at most one identity column each: the AUTOINCREMENT id the mark belongs
 * to, or the explicit rowid (uploads, payments; no mark).
 */
async function continueSequences(tx: Database, plan: readonly PlannedTable[]): Promise<CopyReport['sequences']> {
  const sequences: CopyReport['sequences'] = [];
  for (const table of plan) {
    for (const column of table.columns.filter((c) => c.identity !== null)) {
      const name = quoteIdentifier(table.source.name);
      const highest = (await tx.value<number | null>(`SELECT MAX(${quoteIdentifier(column.name)}) FROM ${name}`)) ?? 0;
      const last = Math.max(highest, table.source.highestId ?? 0);
      const sequence = `SELECT setval(pg_get_serial_sequence(?, ?), ?, ?)`;
      // setval(…, n, true): the next id is n + 1; (…, 1, false): nothing used yet, the next is 1.
      await tx.value(sequence, last > 0 ? [name, column.name, last, true] : [name, column.name, 1, false]);
      sequences.push({ table: table.source.name, column: column.name, next: last + 1 });
    }
  }
  return sequences;
}
