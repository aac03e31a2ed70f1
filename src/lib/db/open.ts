import pg from 'pg';
import type { LoadedConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Database } from './database.ts';
import { migrate, openDatabase, type Db } from './index.ts';
import { migratePostgres } from './migrate-postgres.ts';
import { postgresDatabase } from './postgres.ts';

/**
 * The application's database, opened and migrated, on the engine the configuration names
 * (`DATABASE_URL`: a SQLite file by default, or a PostgreSQL URL).
 */
export interface AppDatabase {
  /** The seam every service uses. */
  db: Database;
  /** The SQLite connection behind `db` (online backups); null on PostgreSQL. */
  sqlite: Db | null;
  /** Closes the connection or the pool. */
  close(): Promise<void>;
}

export async function openAppDatabase(loaded: LoadedConfig, options: { log: Logger; now: number }): Promise<AppDatabase> {
  const { database } = loaded.config;
  if (database.kind === 'sqlite') return migrated(openDatabase(database.file), options);
  const pool = new pg.Pool({
    connectionString: loaded.secrets.databaseUrl,
    max: database.pool.size,
    connectionTimeoutMillis: database.pool.connectTimeoutMs,
  });
  // An idle pooled connection dropped by the server (a restart, a failover) emits 'error' on
  // the pool; unhandled it would crash the process. The pool replaces it on the next query.
  pool.on('error', (err) => options.log.error({ mod: 'db', err }, 'an idle PostgreSQL connection failed'));
  return migrated(postgresDatabase(pool), options);
}

/**
 * Opens a database handed in from outside (tests) as the application would: migrated, with
 * the SQLite connection kept when it is one.
 */
export async function migrated(db: Db | Database, options: { log: Logger; now: number }): Promise<AppDatabase> {
  const sqlite = isSqliteConnection(db) ? db : null;
  try {
    const ran = sqlite ? migrate(sqlite, undefined, options.now) : await migratePostgres(db, undefined, options.now);
    if (ran.length > 0) options.log.info({ mod: 'db', migrations: ran }, 'database migrated');
  } catch (err) {
    await db.end();
    throw err;
  }
  return {
    db,
    sqlite,
    // Both drivers' end() closes once and is safe to call again.
    close: () => db.end(),
  };
}

function isSqliteConnection(db: Db | Database): db is Db {
  return db.dialect === 'sqlite' && 'pragma' in db;
}
