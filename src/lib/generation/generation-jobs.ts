import { PgBoss, type Db as BossDb, type Job } from 'pg-boss';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Database } from '../db/database.ts';
import { ADVISORY_LOCK_NAMESPACE, isPostgres, PG_BOSS_START_LOCK_KEY, type PostgresDatabase } from '../db/postgres.ts';
import type { DispatchTarget, Lane } from './queue.ts';

/**
 * pg-boss carries the dispatch of generations on PostgreSQL: a job says "work on generation X
 * in lane L from time T", nothing more. The generations row stays the one source of truth for
 * state and money; a job's handler claims the row (lease + attempt) like the in-process worker
 * does, and every write stays fenced by that attempt. So the pg-boss pitfall (an expired job's
 * handler still running while its retry starts) cannot settle anything twice: the retry either
 * finds the row leased or claims a new attempt that the old handler's writes do not match.
 *
 * One queue per lane, so each lane has its own number of slots per process (`localConcurrency`).
 * Queues are `short` with the generation id as singleton key: at most one job waits per
 * generation and lane, so repeated sends (a wake-up, the repair sweep) are dropped instead of
 * piling up. Not `stately`: that would also allow one running job per generation, and a job
 * whose process died would then block the next one until pg-boss expires it (the longest step
 * plus two leases); here the next job runs as soon as the row's lease has lapsed, and the
 * lease, not pg-boss, keeps two steps of one generation from running at once. pg-boss
 * completes a job only for the attempt it fetched (`{ id, retryCount }`), so a late handler's
 * completion of an expired job changes nothing.
 *
 * pg-boss runs on Beem's own pool (`rawQuery`, postgres.ts), and `send` runs on the
 * transaction's connection when given one: the job commits or rolls back with the rows it is
 * about. It creates and migrates its schema (`pgboss`) at start; its own guard against two
 * processes doing that at once misses PostgreSQL's duplicate-key answer on an empty database,
 * so the start runs under a Beem advisory lock (`oneAtATime`), one process after another.
 */

export interface GenerationJob {
  generationId: string;
}

export const GENERATION_JOB_QUEUES: Readonly<Record<Lane, string>> = {
  prepare: 'beem-generation-prepare',
  submit: 'beem-generation-submit',
  poll: 'beem-generation-poll',
  download: 'beem-generation-download',
  late: 'beem-generation-late',
};

/** pg-boss's statements on one of our handles: the pool, or a transaction's connection. */
function bossDatabase(db: PostgresDatabase): BossDb {
  return { executeSql: (text, values) => db.rawQuery(text, values) };
}

export interface GenerationJobsDeps {
  db: Database;
  config: Config;
  clock: Clock;
  log: Logger;
}

export class GenerationJobs {
  private readonly workIds = new Map<Lane, string>();
  private stopped = false;

  private constructor(
    readonly boss: PgBoss,
    private readonly deps: GenerationJobsDeps & { db: PostgresDatabase },
  ) {}

  /** Starts pg-boss on the database (creating or migrating its schema) and makes sure the lane queues exist. */
  static async start(deps: GenerationJobsDeps): Promise<GenerationJobs> {
    const { db, config, log } = deps;
    if (!isPostgres(db)) throw new Error('pg-boss runs on PostgreSQL only');
    const { queue } = config;
    const boss = new PgBoss({
      db: bossDatabase(db),
      // Beem has no cron jobs: periodic tasks run under an advisory lock (db/exclusive.ts).
      schedule: false,
      // Expired jobs are failed and retried by supervision's monitor pass, at the sweep's pace.
      superviseIntervalSeconds: Math.round(clampSeconds(queue.sweepIntervalMs, 1, 60)),
      monitorIntervalSeconds: Math.round(clampSeconds(queue.sweepIntervalMs, 1, 60)),
    });
    const bossLog = log.child({ mod: 'pg-boss' });
    // Without a listener an 'error' event would be thrown; pg-boss goes on polling after one.
    boss.on('error', (err) => bossLog.error({ err }, 'pg-boss reported an error'));
    boss.on('warning', (warning) => bossLog.warn({ warning }, 'pg-boss warning'));
    // A job runs one step: the longest are a download and the prompt phases. A handler still
    // running after this is failed by pg-boss and the job retried; the retry finds the row
    // leased (the step's heartbeat) or claims a new attempt, so the late handler settles nothing.
    const { llm } = config;
    const longestStepMs = Math.max(config.minimax.downloadTimeoutMs, llm.enhancerTimeoutMs + llm.compilerTimeoutMs + llm.routerTimeoutMs);
    const settings = {
      expireInSeconds: Math.ceil((longestStepMs + 2 * queue.leaseMs) / 1000) + 5,
      retryLimit: 10,
      retryDelay: 1,
      retryBackoff: true,
      retryDelayMax: 60,
      // Every poll is a job: finished ones are kept an hour for inspection, not pg-boss's week.
      deleteAfterSeconds: 3600,
    };
    try {
      await oneAtATime(db, async () => {
        await boss.start();
        for (const name of Object.values(GENERATION_JOB_QUEUES)) {
          // Settings follow the configuration (a longer download timeout) on every start.
          if (await boss.getQueue(name)) await boss.updateQueue(name, settings);
          else await boss.createQueue(name, { policy: 'short', ...settings });
        }
      });
    } catch (err) {
      // A started pg-boss keeps its timers running on a pool about to be closed.
      await boss.stop({ graceful: false, close: false }).catch(() => undefined);
      throw err;
    }
    return new GenerationJobs(boss, { ...deps, db });
  }

  /**
   * Makes sure a job will look at `target.id` in its lane from `target.at` on. Sent through `db`:
   * a transaction handle sends it with that transaction's commit. A job already waiting for the
   * same generation and lane is kept (the queue is `short`); with `advance`, when this one is
   * due now, the waiting one is brought forward (a callback expedites a poll that waited for
   * later).
   */
  async dispatch(db: Database, target: DispatchTarget, options: { advance: boolean } = { advance: false }): Promise<void> {
    if (!isPostgres(db)) throw new Error('pg-boss jobs are sent on PostgreSQL only');
    const name = GENERATION_JOB_QUEUES[target.lane];
    const delaySeconds = Math.max(0, (target.at - this.deps.clock.now()) / 1000);
    const { advance } = options;
    const connection = { singletonKey: target.id, db: bossDatabase(db) };
    const sent = await this.boss.send(name, { generationId: target.id } satisfies GenerationJob, {
      ...connection,
      ...(delaySeconds > 0 ? { startAfter: delaySeconds } : {}),
    });
    if (sent === null && delaySeconds === 0 && advance) await this.boss.update(name, undefined, { ...connection, startAfter: 0 });
    if (delaySeconds === 0) this.nudge(target.lane);
  }

  /** Runs `handler` for each job of a lane, `slots` at a time in this process. */
  async work(lane: Lane, slots: number, handler: (generationId: string) => Promise<void>): Promise<void> {
    const pollingIntervalSeconds = clampSeconds(this.deps.config.queue.pollIntervalMs, 0.5, 2);
    const id = await this.boss.work<GenerationJob>(
      GENERATION_JOB_QUEUES[lane],
      { localConcurrency: slots, batchSize: 1, pollingIntervalSeconds },
      async (jobs: Job<GenerationJob>[]) => {
        for (const job of jobs) await handler(job.data.generationId);
      },
    );
    // Registered while stopping (the registration was on its way): stopped again at once.
    if (this.stopped) await this.boss.offWork(GENERATION_JOB_QUEUES[lane], { wait: true });
    else this.workIds.set(lane, id);
  }

  /** A job of this process is due now: its lane's worker fetches at once instead of at its next poll. */
  private nudge(lane: Lane): void {
    const id = this.workIds.get(lane);
    if (id) this.boss.notifyWorker(id);
  }

  /** Stops fetching and resolves once the handlers running now have returned. */
  async stopWorking(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.workIds.keys()].map((lane) => this.boss.offWork(GENERATION_JOB_QUEUES[lane], { wait: true })));
    this.workIds.clear();
  }

  /** Stops pg-boss (its supervision timers); the pool is Beem's and stays open. */
  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, close: false });
  }
}

/**
 * pg-boss guards its install against a concurrent one, but two processes starting on an empty
 * database were seen to fail anyway (`CREATE SCHEMA` racing: duplicate pg_namespace key). Its
 * start and the queues' creation run under a session advisory lock of ours: a second process
 * waits, then finds the schema and the queues there.
 */
async function oneAtATime(db: PostgresDatabase, fn: () => Promise<void>): Promise<void> {
  const session = await db.openSession();
  let broken: Error | undefined;
  try {
    await session.query('SELECT pg_advisory_lock($1, $2)', [ADVISORY_LOCK_NAMESPACE, PG_BOSS_START_LOCK_KEY]);
    try {
      await fn();
    } finally {
      await session.query('SELECT pg_advisory_unlock($1, $2)', [ADVISORY_LOCK_NAMESPACE, PG_BOSS_START_LOCK_KEY]).catch((err: unknown) => {
        // A session that cannot unlock is closed below, which unlocks it.
        broken = err instanceof Error ? err : new Error(String(err));
      });
    }
  } finally {
    session.release(broken);
  }
}

function clampSeconds(ms: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, ms / 1000));
}
