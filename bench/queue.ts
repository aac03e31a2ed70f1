import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { isMain, runAlone, type Benchmark, type BenchResult } from './lib/report.ts';
import { startBenchPostgres, type BenchPostgres } from './lib/postgres.ts';
import { migrate, openDatabase } from '../src/lib/db/index.ts';
import { inTransaction, type Database } from '../src/lib/db/database.ts';
import { migrated } from '../src/lib/db/open.ts';
import { postgresDatabase } from '../src/lib/db/postgres.ts';
import { loadConfig } from '../src/lib/config.ts';
import { systemClock } from '../src/lib/clock.ts';
import { createLogger } from '../src/lib/logger.ts';
import { GENERATION_JOB_QUEUES, GenerationJobs, type GenerationJob } from '../src/lib/generation/generation-jobs.ts';
import { claimGeneration, claimGenerationById, markGenerationSucceeded } from '../src/lib/generation/queue.ts';

/**
 * The queue's own cost per job, with the real claim and settle functions on a temporary
 * database file (WAL, synchronous=NORMAL as in production): claim the next due row, then
 * settle it as succeeded (the heaviest settle: status, charge, user counter, event row).
 * Measured with 1,000 and with 100,000 finished rows in the table: the claim reads a
 * partial index of live rows, so finished history must not slow it down.
 */

const JOBS = 3_000;

const INSERT_GENERATION = `INSERT INTO generations (id, userId, status, step, duration, cost, charged, prompt, generation_mode, minimax_job_id,
       next_attempt_at, createdAt, updatedAt, completedAt)
     VALUES (@id, 'usr_bench', @status, @step, 6, 1, @charged, 'bench', 'prompt', @jobId, @due, @at, @at, @completed)`;

async function seed(db: Database, finished: number, live: number): Promise<void> {
  const now = Date.now();
  await db.run(
    `INSERT INTO users (id, email, name, auth_provider, auth_subject, createdAt, updatedAt)
     VALUES ('usr_bench', 'bench@example.ru', 'Bench', 'oidc', 'bench', ?, ?)`,
    [now, now],
  );
  // One transaction for the whole seed: 100,000 rows, one commit.
  await inTransaction(db, async (tx) => {
    for (let i = 0; i < finished; i++) {
      const at = now - 86_400_000 + i;
      await tx.run(INSERT_GENERATION, { id: `gen_done_${i}`, status: i % 10 === 0 ? 'failed' : 'success', step: 'done', charged: i % 10 === 0 ? 0 : 1, jobId: `done${i}`, due: at, at, completed: at });
    }
    for (let i = 0; i < live; i++) {
      await tx.run(INSERT_GENERATION, { id: `gen_live_${i}`, status: 'processing', step: 'download', charged: 0, jobId: `live${i}`, due: now - 1000, at: now - 1000 + i, completed: null });
    }
  });
}

async function measure(finished: number): Promise<{ perJobMs: number; jobsPerSecond: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-bench-queue-'));
  const db = openDatabase(path.join(dir, 'beem.db'));
  try {
    migrate(db);
    await seed(db, finished, JOBS);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const now = Date.now();
    const started = performance.now();
    let done = 0;
    for (;;) {
      const claim = await claimGeneration(db, { lane: 'download', now, leaseMs: 60_000, workerId: 'bench' });
      if (!claim) break;
      if (!(await markGenerationSucceeded(db, claim, { relativePath: `users/usr_bench/videos/${claim.id}.mp4`, bytes: 1 }, now))) {
        throw new Error(`settle refused for ${claim.id}`);
      }
      done += 1;
    }
    const ms = performance.now() - started;
    if (done !== JOBS) throw new Error(`completed ${done} of ${JOBS} jobs`);
    return { perJobMs: ms / done, jobsPerSecond: (done / ms) * 1000 };
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Jobs per PostgreSQL run: each is five round trips, so fewer than SQLite's in-process ones. */
const PG_JOBS = 1_000;

/**
 * The same job on PostgreSQL, as the pg-boss worker does it (pg-boss-worker.ts): send the job,
 * fetch it, claim the row by id, settle it as succeeded, complete the job for its attempt. One
 * after another on one worker, as the SQLite loop runs, so the figure is the queue's own cost
 * per job (round trips included), not a throughput under concurrency.
 */
async function measurePostgres(server: BenchPostgres, finished: number): Promise<{ perJobMs: number; jobsPerSecond: number }> {
  const url = await server.createDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => undefined);
  const log = createLogger('silent');
  const { db, close } = await migrated(postgresDatabase(pool), { log, now: Date.now() });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-bench-queue-'));
  const { config } = loadConfig({ NODE_ENV: 'test', DATABASE_URL: url, STORAGE_DIR: path.join(dir, 'storage'), LOG_LEVEL: 'silent' });
  const jobs = await GenerationJobs.start({ db, config, clock: systemClock, log });
  const queue = GENERATION_JOB_QUEUES.download;
  try {
    await seed(db, finished, PG_JOBS);
    const ids = (await db.all<{ id: string }>(`SELECT id FROM generations WHERE status = 'processing' ORDER BY createdAt`)).map((r) => r.id);
    const now = Date.now();
    const started = performance.now();
    for (const id of ids) {
      await inTransaction(db, (tx) => jobs.dispatch(tx, { id, lane: 'download', at: now }));
      const [job] = await jobs.boss.fetch<GenerationJob>(queue);
      if (!job) throw new Error(`no job fetched for ${id}`);
      const claim = await claimGenerationById(db, job.data.generationId, { lane: 'download', now, leaseMs: 60_000, workerId: 'bench' });
      if (!claim || !(await markGenerationSucceeded(db, claim, { relativePath: `users/usr_bench/videos/${claim.id}.mp4`, bytes: 1 }, now))) {
        throw new Error(`claim or settle refused for ${id}`);
      }
      await jobs.boss.complete(queue, { id: job.id, retryCount: job.retryCount });
    }
    const ms = performance.now() - started;
    return { perJobMs: ms / ids.length, jobsPerSecond: (ids.length / ms) * 1000 };
  } finally {
    await jobs.close();
    await close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The PostgreSQL row: pg-boss jobs/s beside SQLite's claim → settle with as many finished rows. */
async function postgresRow(sqliteJobsPerSecond: number): Promise<BenchResult> {
  const server = await startBenchPostgres();
  try {
    await measurePostgres(server, 1_000); // warm-up
    const runs = [await measurePostgres(server, 1_000), await measurePostgres(server, 1_000)];
    const best = runs.reduce((a, b) => (a.jobsPerSecond >= b.jobsPerSecond ? a : b));
    return {
      bench: 'queue',
      figure: 'jobs/s on PostgreSQL + pg-boss (send, fetch, claim, settle, complete), 1,000 finished rows',
      value: best.jobsPerSecond,
      unit: 'jobs/s',
      baseline: { label: 'SQLite claim → settle, 1,000 finished rows', value: sqliteJobsPerSecond },
      ratio: best.jobsPerSecond / sqliteJobsPerSecond,
      target: 'reported (no target in the issue)',
      pass: null,
      note: 'sequential, one worker, a local server: the round trips per job, not throughput under concurrency',
    };
  } finally {
    await server.stop();
  }
}

export const queueBenchmark: Benchmark = {
  name: 'queue',
  title: 'queue claim → complete',
  async run() {
    await measure(1_000); // warm-up: JIT and the file system
    // Alternated, best of three each: a busy moment of the shared machine (or the disk still
    // writing back an earlier benchmark's video) should not decide the ratio.
    type Run = Awaited<ReturnType<typeof measure>>;
    const smalls: Run[] = [];
    const larges: Run[] = [];
    for (let round = 0; round < 3; round++) {
      smalls.push(await measure(1_000));
      larges.push(await measure(100_000));
    }
    const best = (runs: Run[]) => runs.reduce((a, b) => (a.perJobMs <= b.perJobMs ? a : b));
    const small = best(smalls);
    const large = best(larges);
    const ratio = large.jobsPerSecond / small.jobsPerSecond;
    return [
      {
        bench: 'queue',
        figure: 'claim + settle per job, 1,000 finished rows',
        value: small.perJobMs,
        unit: 'ms',
        baseline: null,
        ratio: null,
        target: '≤ 0.5 ms',
        timing: true,
        pass: small.perJobMs <= 0.5,
      },
      {
        bench: 'queue',
        figure: 'claim + settle per job, 100,000 finished rows',
        value: large.perJobMs,
        unit: 'ms',
        baseline: null,
        ratio: null,
        target: '≤ 0.5 ms',
        timing: true,
        pass: large.perJobMs <= 0.5,
      },
      {
        bench: 'queue',
        figure: 'jobs/s with 100,000 finished rows',
        value: large.jobsPerSecond,
        unit: 'jobs/s',
        baseline: { label: 'jobs/s with 1,000', value: small.jobsPerSecond },
        ratio,
        target: '≥ 0.5 × baseline',
        pass: ratio >= 0.5,
      },
      await postgresRow(small.jobsPerSecond),
    ];
  },
};

if (isMain(import.meta.url)) await runAlone(queueBenchmark);
