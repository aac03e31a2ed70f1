import { inTransaction, type Database } from './database.ts';
import { postgresMigrations } from './migrations-pg/index.ts';
import type { Migration } from './migrations/index.ts';
import { ADVISORY_LOCK_NAMESPACE, MIGRATION_LOCK_KEY } from './postgres.ts';

const SCHEMA_MIGRATIONS = `CREATE TABLE IF NOT EXISTS schema_migrations (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  "appliedAt" BIGINT NOT NULL
)`;

/**
 * Applies the PostgreSQL migrations that have not run yet, each in its own transaction with
 * its id recorded, and returns the ids it applied. Several processes may start at once (web
 * and worker roles): each migration's transaction first takes an advisory lock, so a second
 * process waits, then finds the id recorded and skips it.
 */
export async function migratePostgres(
  db: Database,
  migrations: Migration[] = postgresMigrations,
  now = Date.now(),
): Promise<number[]> {
  if (db.dialect !== 'postgres') throw new Error(`migratePostgres needs a PostgreSQL database, got ${db.dialect}`);
  const ran: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.id - b.id)) {
    const applied = await inTransaction(db, async (tx) => {
      await tx.run(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_NAMESPACE}, ${MIGRATION_LOCK_KEY})`);
      await tx.run(SCHEMA_MIGRATIONS);
      if (await tx.value('SELECT 1 FROM schema_migrations WHERE id = ?', [migration.id])) return false;
      await tx.run(migration.sql);
      await tx.run('INSERT INTO schema_migrations (id, name, appliedAt) VALUES (?, ?, ?)', [migration.id, migration.name, now]);
      return true;
    });
    if (applied) ran.push(migration.id);
  }
  return ran;
}
