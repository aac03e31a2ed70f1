import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrations as defaultMigrations, type Migration } from './migrations/index.ts';
import { sqliteDatabase, type SqliteDatabase } from './sqlite.ts';
import type { Database as SeamDatabase } from './database.ts';

/**
 * A SQLite connection that is both the raw better-sqlite3 handle and the async `Database`
 * seam (src/lib/db/database.ts). Transitional (issue 19): services move to `Database` one by
 * one; until the last one has, both shapes work on the same connection.
 */
export type Db = Database.Database &
  Omit<SqliteDatabase, 'withTransaction'> & { withTransaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> };
/** The plain better-sqlite3 connection (migrations, backups, SQLite-only checks). */
export type RawDb = Database.Database;

/**
 * Opens the SQLite file with the settings every connection needs: WAL (readers never block
 * the writer), foreign keys, and a busy timeout so a second process (an operator command,
 * a backup) waits instead of failing.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  reusePreparedStatements(db);
  return withAsyncApi(db);
}

/** Gives a raw connection the `Database` methods (see `Db`). */
export function withAsyncApi(db: RawDb): Db {
  return Object.assign(db, asyncMethods(db, sqliteDatabase(db)));
}

/**
 * Transitional: a transaction handle that also answers the raw better-sqlite3 calls (it
 * inherits them from the connection, which is the same one), so a service already moved to
 * `inTransaction(db, async (tx) => …)` can still hand `tx` to one that has not moved yet.
 */
function asyncMethods(raw: RawDb, seam: SeamDatabase): SqliteDatabase & Pick<Db, 'withTransaction'> {
  return {
    dialect: 'sqlite',
    get: seam.get.bind(seam),
    all: seam.all.bind(seam),
    value: seam.value.bind(seam),
    run: seam.run.bind(seam),
    end: seam.end.bind(seam),
    withTransaction: <T>(fn: (tx: Db) => Promise<T>) =>
      seam.withTransaction((tx) => fn(Object.assign(Object.create(raw) as RawDb, asyncMethods(raw, tx)))),
  };
}

/** Compiled statements kept per connection; beyond this many distinct SQL texts the oldest goes. */
export const STATEMENT_CACHE_SIZE = 500;

/**
 * better-sqlite3 compiles the SQL on every `prepare()`; code here prepares at the call site,
 * and on hot paths (the status poll, the worker's claims) compiling was measured at a fifth
 * of the server's CPU. So `prepare` hands back the statement compiled earlier for the same
 * text. Call sites toggle `.pluck()`, so plucking is switched off again on every reuse:
 * each caller sees a statement in its default state, as if freshly prepared.
 */
function reusePreparedStatements(db: RawDb): void {
  const compile = db.prepare.bind(db);
  const statements = new Map<string, Database.Statement>();
  const prepare = (source: string): Database.Statement => {
    const cached = statements.get(source);
    if (cached) {
      if (cached.reader) cached.pluck(false);
      return cached;
    }
    const statement = compile(source);
    if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
    statements.set(source, statement);
    return statement;
  };
  db.prepare = prepare as RawDb['prepare'];
}

/** Applies migrations that have not run yet, each in its own transaction with its id recorded. */
export function migrate(db: RawDb, migrations: Migration[] = defaultMigrations, now = Date.now()): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    appliedAt INTEGER NOT NULL
  )`);
  const applied = new Set(
    db
      .prepare('SELECT id FROM schema_migrations')
      .pluck()
      .all() as number[],
  );
  const ran: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.id - b.id)) {
    if (applied.has(migration.id)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (id, name, appliedAt) VALUES (?, ?, ?)').run(
        migration.id,
        migration.name,
        now,
      );
    }).immediate();
    ran.push(migration.id);
  }
  return ran;
}

/**
 * Runs `fn` in an IMMEDIATE transaction (takes the write lock at BEGIN, so two writers never
 * deadlock on upgrade). Nested calls join the outer transaction as a savepoint.
 * No network call belongs inside `fn`.
 */
export function inTransaction<T>(db: RawDb, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** A consistent online copy of the database (safe while the server is writing). */
export async function backupDatabase(db: RawDb, destination: string): Promise<void> {
  fs.mkdirSync(path.dirname(destination), { recursive: true });
  await db.backup(destination);
}

export function checkDatabase(db: RawDb): boolean {
  return db.prepare('SELECT 1 AS ok').get() !== undefined;
}
