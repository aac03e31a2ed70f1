import type { Logger } from '../logger.ts';
import type { Database } from './database.ts';
import { ADVISORY_LOCK_NAMESPACE, isPostgres, type PostgresDatabase, type PostgresSession } from './postgres.ts';

/**
 * Periodic housekeeping (the stuck detector, payment reconciliation, the session sweep) runs
 * once across all processes, not once per process: `run(name, fn)` runs `fn` only in the
 * process that leads `name`.
 *
 * On PostgreSQL the leader of a name is the process holding a session-level advisory lock for
 * it, on one pooled connection kept for the purpose. The first process to try takes it and
 * keeps it for as long as it lives, so each pass runs once, at the leader's interval; the
 * others' tries answer "not mine" in one query. A leader that dies loses its connection and the
 * lock with it, and the next process to try takes over. Chosen over pg-boss `schedule`, whose
 * cron fires at most once a minute while these intervals are set in milliseconds
 * (QUEUE_SWEEP_INTERVAL_MS, 30 s by default) and tests run them far faster.
 *
 * On SQLite there is one process: every pass runs.
 */
export interface ExclusiveRunner {
  /** Runs `fn` when this process leads `name` (taking the lead when it is free); true when it ran. */
  run(name: string, fn: () => Promise<void>): Promise<boolean>;
  /** Gives up every lead (another process takes over at its next try). */
  close(): Promise<void>;
}

/** The second key space of Beem's advisory locks: one lock per task name. */
const TASK_LOCK_NAMESPACE = ADVISORY_LOCK_NAMESPACE + 1;

/** A stable signed 32-bit key for a task name (FNV-1a). */
export function taskLockKey(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** One process (SQLite, or a caller given no runner): every pass runs. */
export const everyPass: ExclusiveRunner = {
  async run(_name, fn) {
    await fn();
    return true;
  },
  async close() {},
};

export function createExclusiveRunner(db: Database, log: Logger): ExclusiveRunner {
  return isPostgres(db) ? new AdvisoryLeader(db, log.child({ mod: 'exclusive' })) : everyPass;
}

class AdvisoryLeader implements ExclusiveRunner {
  private session: Promise<PostgresSession> | null = null;
  private readonly held = new Set<string>();
  private closed = false;
  /** Statements on the session one after another (tasks try their leads independently). */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: PostgresDatabase,
    private readonly log: Logger,
  ) {}

  async run(name: string, fn: () => Promise<void>): Promise<boolean> {
    if (!(await this.lead(name))) return false;
    await fn();
    return true;
  }

  private lead(name: string): Promise<boolean> {
    const result = this.turn.then(() => this.tryLead(name));
    this.turn = result.catch(() => undefined);
    return result;
  }

  private async tryLead(name: string): Promise<boolean> {
    if (this.closed) return false;
    if (this.held.has(name)) return true;
    let session: PostgresSession | null = null;
    try {
      this.session ??= this.db.openSession();
      session = await this.session;
      const { rows } = await session.query('SELECT pg_try_advisory_lock($1, $2) AS got', [TASK_LOCK_NAMESPACE, taskLockKey(name)]);
      if (rows[0]?.got !== true) return false;
      this.held.add(name);
      this.log.info({ task: name }, 'this process now runs the task for all processes');
      return true;
    } catch (err) {
      // A broken connection has lost every lock it held: start again with a new one next time.
      this.log.warn({ err, task: name }, 'could not take the lead of a task');
      this.held.clear();
      this.session = null;
      session?.release(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.turn;
    const opened = await this.session?.catch(() => null);
    this.session = null;
    this.held.clear();
    if (!opened) return;
    // Session locks outlive a connection handed back to the pool: unlock them first, or close it.
    try {
      await opened.query('SELECT pg_advisory_unlock_all()');
      opened.release();
    } catch (err) {
      opened.release(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
