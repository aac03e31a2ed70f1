import BetterSqlite3 from 'better-sqlite3';
import type { Database } from '../db/database.ts';
import { migrations as codeMigrations, type Migration } from '../db/migrations/index.ts';
import { sqliteDatabase } from '../db/sqlite.ts';
import { MoveError } from './move-error.ts';
import { quoteIdentifier } from './shop-figures.ts';

/**
 * A Beem SQLite file opened read-only as one snapshot: every read of the move (checks before,
 * the rows, the figures compared after) sees the same committed state, whatever a process
 * still writing to the file does meanwhile, and `end()` tells whether someone did.
 */

export interface SourceTable {
  name: string;
  /** Columns as declared, in order. */
  columns: string[];
  /** The columns declared INTEGER (PostgreSQL's integer and bigint accept whole numbers only). */
  integerColumns: string[];
  /** The primary key's columns in key order (every Beem table declares one). */
  primaryKey: string[];
  /** Tables it references: they are copied before it. */
  parents: string[];
  /**
   * SQLite's high-water mark of an AUTOINCREMENT id (sqlite_sequence): ids up to it were handed
   * out, some perhaps deleted since, and AUTOINCREMENT promises never to hand them out again.
   */
  highestId: number | null;
}

export interface SqliteSnapshot {
  file: string;
  /** The snapshot through the data seam (for the checks shared with PostgreSQL). */
  db: Database;
  /** The highest migration id applied to the file. */
  schemaVersion: number;
  /** Beem's tables (not schema_migrations), parents before children. */
  tables: SourceTable[];
  /** Rows of `table` in rowid order, `size` at a time, each row the values of `columns` in order. */
  batches(table: string, columns: readonly string[], size: number): Generator<unknown[][]>;
  /** Rows that point at a parent row that does not exist (PostgreSQL would refuse them). */
  foreignKeyProblems(): string[];
  /**
   * INTEGER columns holding something else (SQLite's type affinity keeps a fraction or a word
   * that does not read as a number): PostgreSQL would refuse the row.
   */
  typeProblems(): string[];
  /** Ends the snapshot; `changed` when another connection committed to the file since it began. */
  end(): { changed: boolean };
  close(): void;
}

/** Rows named in a report; the count says how many there are. */
const REPORT_LIMIT = 20;

/** SQLite's smallest rowid: the key before every row. */
const BEFORE_FIRST_ROWID = -(2n ** 63n);

/**
 * Opens `file` read-only and checks it holds Beem's schema at exactly the version of this
 * code: an older file is migrated by starting Beem on it once, a newer one needs this code
 * updated first. Throws MoveError otherwise.
 */
export function openSqliteSnapshot(file: string, migrations: readonly Migration[] = codeMigrations): SqliteSnapshot {
  const raw = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    raw.exec('BEGIN');
    const applied = readAppliedMigrations(raw, file);
    // Read inside the snapshot (after its first read): the state the copy sees.
    const startVersion = raw.pragma('data_version', { simple: true }) as number;
    checkSchemaVersion(applied, migrations, file);
    const tables = orderByForeignKeys(readTables(raw));
    const db = sqliteDatabase(raw);
    return {
      file,
      db,
      schemaVersion: Math.max(...applied),
      tables,
      *batches(table, columns, size) {
        const select = raw
          .prepare(`SELECT rowid, ${columns.map(quoteIdentifier).join(', ')} FROM ${quoteIdentifier(table)} WHERE rowid > ? ORDER BY rowid LIMIT ?`)
          .raw(true);
        let after: number | bigint = BEFORE_FIRST_ROWID;
        for (;;) {
          const rows = select.all(after, size) as unknown[][];
          if (rows.length === 0) return;
          after = rows.at(-1)![0] as number;
          yield rows.map((row) => row.slice(1));
          if (rows.length < size) return;
        }
      },
      foreignKeyProblems() {
        const rows = raw.pragma('foreign_key_check') as Array<{ table: string; rowid: number; parent: string }>;
        const named = rows.slice(0, REPORT_LIMIT).map((r) => `${r.table} row ${r.rowid} points at a missing ${r.parent} row`);
        if (rows.length > REPORT_LIMIT) named.push(`… and ${rows.length - REPORT_LIMIT} more rows`);
        return named;
      },
      typeProblems() {
        const problems: string[] = [];
        for (const table of tables.filter((t) => t.integerColumns.length > 0)) {
          const counts = raw
            .prepare(
              `SELECT ${table.integerColumns.map((c) => `COALESCE(SUM(typeof(${quoteIdentifier(c)}) NOT IN ('integer', 'null')), 0)`).join(', ')} FROM ${quoteIdentifier(table.name)}`,
            )
            .raw(true)
            .get() as number[];
          table.integerColumns.forEach((column, i) => {
            if (counts[i]! > 0) problems.push(`${table.name}.${column}: ${counts[i]} rows hold something other than a whole number`);
          });
        }
        return problems;
      },
      end() {
        if (raw.inTransaction) raw.exec('COMMIT');
        return { changed: (raw.pragma('data_version', { simple: true }) as number) !== startVersion };
      },
      close() {
        if (raw.open) raw.close();
      },
    };
  } catch (err) {
    raw.close();
    throw err;
  }
}

function readAppliedMigrations(raw: BetterSqlite3.Database, file: string): number[] {
  let ids: number[];
  try {
    ids = raw.prepare('SELECT id FROM schema_migrations ORDER BY id').pluck().all() as number[];
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || (code === 'SQLITE_ERROR' && /no such table/.test((err as Error).message))) {
      throw new MoveError('SOURCE_NOT_BEEM', `${file} is not a Beem database (${(err as Error).message}).`);
    }
    throw err;
  }
  if (ids.length === 0) throw new MoveError('SOURCE_NOT_BEEM', `${file} has no Beem schema (no migration was ever applied to it).`);
  return ids;
}

function checkSchemaVersion(applied: readonly number[], migrations: readonly Migration[], file: string): void {
  const missing = migrations.filter((m) => !applied.includes(m.id));
  const unknown = applied.filter((id) => !migrations.some((m) => m.id === id));
  if (unknown.length > 0) {
    throw new MoveError(
      'SOURCE_SCHEMA_MISMATCH',
      `${file} has migrations this Beem does not know (${unknown.join(', ')}): it was used by a newer Beem. Move it with that version.`,
    );
  }
  if (missing.length > 0) {
    throw new MoveError(
      'SOURCE_SCHEMA_MISMATCH',
      `${file} is at an older schema than this Beem (missing ${missing.map((m) => `${m.id}_${m.name}`).join(', ')}). ` +
        'Start this version of Beem on it once (it migrates the file at start, then stop it), and run the move again.',
    );
  }
}

function readTables(raw: BetterSqlite3.Database): SourceTable[] {
  const names = raw
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_migrations' ORDER BY name`)
    .pluck()
    .all() as string[];
  const hasSequences = raw.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'`).pluck().get() !== undefined;
  return names.map((name) => {
    const declared = raw.pragma(`table_info(${quoteIdentifier(name)})`) as Array<{ name: string; type: string; pk: number }>;
    const columns = declared.map((c) => c.name);
    const integerColumns = declared.filter((c) => /INT/i.test(c.type)).map((c) => c.name);
    const primaryKey = declared.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    const references = raw.pragma(`foreign_key_list(${quoteIdentifier(name)})`) as Array<{ table: string }>;
    const parents = [...new Set(references.map((r) => r.table).filter((parent) => parent !== name))];
    const highestId = hasSequences ? ((raw.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').pluck().get(name) as number | undefined) ?? null) : null;
    return { name, columns, integerColumns, primaryKey, parents, highestId };
  });
}

/** Parents before children (PostgreSQL checks every reference at insert); refuses a cycle. */
function orderByForeignKeys(tables: readonly SourceTable[]): SourceTable[] {
  const ordered: SourceTable[] = [];
  const placed = new Set<string>();
  const waiting = [...tables];
  while (waiting.length > 0) {
    const ready = waiting.findIndex((t) => t.parents.every((parent) => placed.has(parent) || !tables.some((other) => other.name === parent)));
    if (ready === -1) throw new Error(`the tables ${waiting.map((t) => t.name).join(', ')} reference each other in a cycle`);
    const [table] = waiting.splice(ready, 1);
    ordered.push(table!);
    placed.add(table!.name);
  }
  return ordered;
}
