import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrations as defaultMigrations, type Migration } from './migrations/index.ts';
import { sqliteDatabase, type SqliteDatabase } from './sqlite.ts';

/**
 * A SQLite connection that is both the raw better-sqlite3 handle (migrations, online backups,
 * tests of SQLite itself) and the async `Database` seam (src/lib/db/database.ts) that every
 * service is written against. Transactions hand out plain `Database` handles.
 */
export type Db = Database.Database & SqliteDatabase;
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

/**
 * SQLite's own lower() and LIKE fold ASCII only; names are mostly Cyrillic. The admin user
 * search calls `unicode_lower`, which PostgreSQL's migrations define as a SQL function.
 */
function registerUnicodeLower(db: RawDb): void {
  db.function('unicode_lower', { deterministic: true }, (value: unknown) =>
    typeof value === 'string' ? value.toLowerCase() : value,
  );
}

/** Gives a raw connection the `Database` methods (see `Db`). */
export function withAsyncApi(db: RawDb): Db {
  registerUnicodeLower(db);
  const seam = sqliteDatabase(db);
  return Object.assign(db, {
    dialect: seam.dialect,
    get: seam.get.bind(seam),
    all: seam.all.bind(seam),
    value: seam.value.bind(seam),
    run: seam.run.bind(seam),
    withTransaction: seam.withTransaction.bind(seam),
    end: seam.end.bind(seam),
  });
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

/** A consistent online copy of the database (safe while the server is writing). */
export async function backupDatabase(db: RawDb, destination: string): Promise<void> {
  fs.mkdirSync(path.dirname(destination), { recursive: true });
  await db.backup(destination);
}
