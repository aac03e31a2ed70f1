import { AsyncLocalStorage } from 'node:async_hooks';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database, Params, Row, RunResult } from './database.ts';
import { waitForOwnTransaction } from './own-transaction.ts';

/**
 * The SQLite side of the `Database` seam, on one better-sqlite3 connection. Statements run
 * synchronously; the promises only give the services one shape for both engines.
 *
 * A transaction spans awaits, and other requests' code runs between them on the same
 * connection, so it holds a lock: while it is open, statements from outside wait until it
 * ends (they would otherwise join it, and be rolled back with it). Transactions here contain
 * only database calls, so the wait is a few microtask turns. A statement on the outer handle
 * from *inside* the transaction (a function handed `db` instead of `tx`) would wait for
 * itself: after a moment it throws instead, naming the mistake (own-transaction.ts).
 */

interface OpenTransaction {
  /** Resolves when the transaction has committed or rolled back. */
  ended: Promise<void>;
  active: boolean;
}

export interface SqliteDatabase extends Database {
  readonly dialect: 'sqlite';
}

type Raw = BetterSqlite3.Database;

function bind(params: Params | undefined): unknown[] {
  if (params === undefined) return [];
  return Array.isArray(params) ? params : [params];
}

function statement(raw: Raw, sql: string): BetterSqlite3.Statement {
  return raw.prepare(sql);
}

/** Statements of one open transaction (or of its savepoints). */
class TransactionHandle implements SqliteDatabase {
  readonly dialect = 'sqlite' as const;
  private savepoints = 0;

  constructor(
    private readonly raw: Raw,
    private readonly open: OpenTransaction,
  ) {}

  private check(): void {
    if (!this.open.active) throw new Error('this transaction has ended: a statement used its handle after commit or rollback');
  }

  async get<R = Row>(sql: string, params?: Params): Promise<R | undefined> {
    this.check();
    return statement(this.raw, sql).get(...bind(params)) as R | undefined;
  }

  async all<R = Row>(sql: string, params?: Params): Promise<R[]> {
    this.check();
    return statement(this.raw, sql).all(...bind(params)) as R[];
  }

  async value<T = unknown>(sql: string, params?: Params): Promise<T | undefined> {
    this.check();
    return statement(this.raw, sql).pluck().get(...bind(params)) as T | undefined;
  }

  async run(sql: string, params?: Params): Promise<RunResult> {
    this.check();
    return { changes: statement(this.raw, sql).run(...bind(params)).changes };
  }

  async withTransaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    this.check();
    const name = `beem_sp_${++this.savepoints}`;
    this.raw.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      this.raw.exec(`RELEASE ${name}`);
      return result;
    } catch (err) {
      this.raw.exec(`ROLLBACK TO ${name}`);
      this.raw.exec(`RELEASE ${name}`);
      throw err;
    } finally {
      this.savepoints--;
    }
  }

  async end(): Promise<void> {
    throw new Error('end() on a transaction handle: close the database, not the transaction');
  }
}

/** The connection-level handle: waits for an open transaction, refuses to be used from inside one. */
class ConnectionHandle implements SqliteDatabase {
  readonly dialect = 'sqlite' as const;
  private current: OpenTransaction | null = null;
  private readonly inside = new AsyncLocalStorage<OpenTransaction>();

  constructor(private readonly raw: Raw) {}

  /**
   * Resolves once the open transaction has ended (see own-transaction.ts when called from its
   * own async context). Callers check `current` again synchronously right after (`while`):
   * several waiters wake on the same end, and the first to run may already have opened the next.
   */
  private async waitForEnd(): Promise<void> {
    const open = this.current!;
    if (this.inside.getStore() === open) await waitForOwnTransaction(open.ended);
    else await open.ended;
  }

  async get<R = Row>(sql: string, params?: Params): Promise<R | undefined> {
    while (this.current) await this.waitForEnd();
    return statement(this.raw, sql).get(...bind(params)) as R | undefined;
  }

  async all<R = Row>(sql: string, params?: Params): Promise<R[]> {
    while (this.current) await this.waitForEnd();
    return statement(this.raw, sql).all(...bind(params)) as R[];
  }

  async value<T = unknown>(sql: string, params?: Params): Promise<T | undefined> {
    while (this.current) await this.waitForEnd();
    return statement(this.raw, sql).pluck().get(...bind(params)) as T | undefined;
  }

  async run(sql: string, params?: Params): Promise<RunResult> {
    while (this.current) await this.waitForEnd();
    return { changes: statement(this.raw, sql).run(...bind(params)).changes };
  }

  async withTransaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    while (this.current) await this.waitForEnd();
    let finish!: () => void;
    const open: OpenTransaction = { active: true, ended: new Promise<void>((resolve) => (finish = resolve)) };
    this.current = open;
    try {
      this.raw.exec('BEGIN IMMEDIATE');
      const handle = new TransactionHandle(this.raw, open);
      const result = await this.inside.run(open, () => fn(handle));
      this.raw.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.raw.inTransaction) this.raw.exec('ROLLBACK');
      throw err;
    } finally {
      open.active = false;
      this.current = null;
      finish();
    }
  }

  async end(): Promise<void> {
    if (this.raw.open) this.raw.close();
  }
}

/** Wraps an open better-sqlite3 connection (pragmas and migrations are `openDatabase`'s job). */
export function sqliteDatabase(raw: Raw): SqliteDatabase {
  return new ConnectionHandle(raw);
}
