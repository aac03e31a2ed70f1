/**
 * The one data-access seam every service uses (issue 19): the same business code runs on
 * SQLite (one process, the default) and on PostgreSQL (web and worker processes). Services
 * never see which engine is behind it.
 *
 * SQL is written once, in the subset both engines read: parameters are `?` (in order) or
 * `@name` (from an object); mixed-case identifiers (`userId`, `createdAt`) are fine, the
 * PostgreSQL driver quotes them; `INDEXED BY` hints are SQLite-only and dropped there. Use
 * `ON CONFLICT … DO NOTHING` instead of `INSERT OR IGNORE`, `RETURNING id` instead of a last
 * row id, and no aliases in `HAVING`/`WHERE`.
 */

export type Row = Record<string, unknown>;
export type Params = readonly unknown[] | Readonly<Record<string, unknown>>;

export interface RunResult {
  /** Rows inserted, updated or deleted by the statement. */
  changes: number;
}

export interface Database {
  readonly dialect: 'sqlite' | 'postgres';
  /** The first row, or undefined. */
  get<R = Row>(sql: string, params?: Params): Promise<R | undefined>;
  all<R = Row>(sql: string, params?: Params): Promise<R[]>;
  /** The first column of the first row (a count, an id, a balance), or undefined without a row. */
  value<T = unknown>(sql: string, params?: Params): Promise<T | undefined>;
  run(sql: string, params?: Params): Promise<RunResult>;
  /**
   * Runs `fn` in one transaction that takes the write lock at its start (SQLite
   * `BEGIN IMMEDIATE`; PostgreSQL a dedicated connection and one advisory lock, postgres.ts).
   * Every statement of `fn` MUST go through `tx`: the outer handle refuses a statement from
   * inside the transaction (on SQLite it would wait for the transaction it is part of). A
   * `tx.withTransaction` inside it is a savepoint. Rolled back when `fn` throws. No network
   * call belongs inside `fn`.
   */
  withTransaction<T>(fn: (tx: Database) => Promise<T>): Promise<T>;
  /** Closes the connection(s); later calls fail. */
  end(): Promise<void>;
}

/** `inTransaction(db, async (tx) => …)`: reads as the sentence it is at the call sites. */
export function inTransaction<D extends Database, T>(db: D, fn: (tx: D) => Promise<T>): Promise<T> {
  return db.withTransaction(fn as (tx: Database) => Promise<T>);
}
