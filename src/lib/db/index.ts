import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrations as defaultMigrations, type Migration } from './migrations/index.ts';

export type Db = Database.Database;

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
  return db;
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
function reusePreparedStatements(db: Db): void {
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
  db.prepare = prepare as Db['prepare'];
}

/** Applies migrations that have not run yet, each in its own transaction with its id recorded. */
export function migrate(db: Db, migrations: Migration[] = defaultMigrations, now = Date.now()): number[] {
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
export function inTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** A consistent online copy of the database (safe while the server is writing). */
export async function backupDatabase(db: Db, destination: string): Promise<void> {
  fs.mkdirSync(path.dirname(destination), { recursive: true });
  await db.backup(destination);
}

export function checkDatabase(db: Db): boolean {
  return db.prepare('SELECT 1 AS ok').get() !== undefined;
}
