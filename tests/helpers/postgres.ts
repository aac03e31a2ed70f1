import crypto from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { postgresDatabase, type PostgresDatabase } from '../../src/lib/db/postgres.ts';

/**
 * Databases on the run's one PostgreSQL server (started by tests/helpers/postgres-server.ts):
 * each is created empty under a unique name and dropped afterwards.
 */
export interface TestPostgres {
  db: PostgresDatabase;
  /** Connection URL of this database (for a child process). */
  url: string;
  /** Another handle on its own pool (a second process, as far as PostgreSQL can tell). */
  connect(): PostgresDatabase;
  /** Ends every pool opened for it and drops the database. */
  drop(): Promise<void>;
}

let created = 0;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** `createOptions` is appended to CREATE DATABASE (e.g. another locale). */
export async function createTestDatabase(createOptions = ''): Promise<TestPostgres> {
  const name = `beem_test_${process.pid}_${++created}_${crypto.randomBytes(3).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name} ${createOptions}`));
  const url = new URL(inject('postgresAdminUrl'));
  url.pathname = `/${name}`;
  const pools: pg.Pool[] = [];
  const errors: Error[] = [];
  const connect = (): PostgresDatabase => {
    const pool = new pg.Pool({ connectionString: url.href, max: 5 });
    // An idle connection dropped by the server: kept and reported by drop(), never swallowed.
    pool.on('error', (err) => errors.push(err));
    pools.push(pool);
    return postgresDatabase(pool);
  };
  return {
    db: connect(),
    url: url.href,
    connect,
    drop: async () => {
      await Promise.all(pools.map((pool) => (pool.ended ? undefined : pool.end())));
      // Not WITH (FORCE): pool.end() resolves before its connections have closed, and DROP waits
      // for them (up to 5 s), where FORCE would kill them mid-goodbye. A connection still open
      // after that is a leak, and DROP says so.
      await admin((client) => client.query(`DROP DATABASE ${name}`));
      if (errors.length > 0) throw new AggregateError(errors, 'a pooled PostgreSQL connection failed while idle');
    },
  };
}

/** For a describe block: a fresh empty database for its tests, dropped after the last one. */
export function usePostgresDatabase(): () => TestPostgres {
  let current: TestPostgres | null = null;
  beforeAll(async () => {
    current = await createTestDatabase();
  });
  afterAll(async () => {
    await current?.drop();
  });
  return () => {
    if (!current) throw new Error('usePostgresDatabase(): the database exists from beforeAll on');
    return current;
  };
}
