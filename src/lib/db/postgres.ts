import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { waitForOwnTransaction } from './own-transaction.ts';
import type { Database, Params, Row, RunResult } from './database.ts';
import { bindValues, toPostgres } from './pg-dialect.ts';

/**
 * The PostgreSQL side of the `Database` seam, on a `pg` pool. Statements are written for both
 * engines (database.ts) and translated by pg-dialect.ts.
 *
 * Transactions keep SQLite's promise: the services read a balance or a state and write it back
 * in the same transaction, which on SQLite is safe because `BEGIN IMMEDIATE` lets one writer
 * in at a time. Under PostgreSQL's default isolation two such transactions would both read the
 * old value and one write would be lost. So every transaction takes one advisory lock right
 * after BEGIN: transactions run one at a time across all processes, as on SQLite, while reads
 * and single statements outside transactions run in parallel on other pooled connections.
 *
 * A transaction runs on one dedicated pooled connection. The outer handle, used from inside
 * its own transaction, waits for it to end and then names the mistake (own-transaction.ts): it
 * would take a second connection, outside the transaction, and could wait for its locks. Unlike SQLite, a failed statement aborts the whole PostgreSQL
 * transaction: catching its error inside the body does not save the transaction, and the
 * commit reports the rollback instead of pretending to succeed.
 *
 * The pool's owner handles its 'error' event (an idle connection dropped by the server);
 * without a listener Node treats it as an uncaught error.
 */
export interface PostgresDatabase extends Database {
  readonly dialect: 'postgres';
  /**
   * SQL as PostgreSQL reads it (`$1` parameters, no translation, values as `pg` returns them),
   * for code that brings its own SQL: pg-boss. On a transaction handle it runs on the
   * transaction's connection, so a job is sent in the same commit as the rows it is about. On
   * the pool handle it does not wait for the caller's own transaction (pg-boss reads its queue
   * settings that way while sending inside one), so it MUST NOT touch Beem's tables.
   */
  rawQuery(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
  /**
   * A pooled connection of its own, held until `release` (session-level advisory locks live as
   * long as it does: exclusive.ts). Not available on a transaction handle.
   */
  openSession(): Promise<PostgresSession>;
}

/** One connection taken from the pool for a session of the caller's. */
export interface PostgresSession {
  query(text: string, values?: unknown[]): Promise<{ rows: Row[] }>;
  /** Gives the connection back; with an error it is closed instead (a broken session). */
  release(err?: Error): void;
}

export function isPostgres(db: Database): db is PostgresDatabase {
  return db.dialect === 'postgres';
}

/** Advisory lock keys of Beem (first key 'beem' in ASCII), shared by every process on the database. */
export const ADVISORY_LOCK_NAMESPACE = 0x6265656d;
export const TRANSACTION_LOCK_KEY = 1;
export const MIGRATION_LOCK_KEY = 2;
/** Held while pg-boss installs or migrates its schema (generation-jobs.ts). */
export const PG_BOSS_START_LOCK_KEY = 3;

const BEGIN = `BEGIN; SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_NAMESPACE}, ${TRANSACTION_LOCK_KEY})`;

const BOOL_OID = 16;
const INT8_OID = 20;
const NUMERIC_OID = 1700;

function integer(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`integer ${text} does not fit a JS number exactly`);
  return value;
}

const INTEGRAL = /^-?\d+$/;

/**
 * Values come back as SQLite gives them. `pg` hands bigint (COUNT, SUM of integers, BIGINT
 * columns) and numeric as strings, because they may not fit a JS number. Beem's integers are
 * ms timestamps and credit or kopeck amounts, far inside 2^53, and the services expect
 * numbers. Integral values become numbers; one that would lose precision is an error, never a
 * rounded number. A fractional numeric (an AVG) stays an exact string. A boolean expression
 * (`SELECT a < b AS late`) is 1 or 0, as SQLite answers it and as 0/1 flag columns hold it.
 */
const resultTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary' && oid === BOOL_OID) return (text: string) => (text === 't' ? 1 : 0);
    if (format !== 'binary' && oid === INT8_OID) return integer;
    if (format !== 'binary' && oid === NUMERIC_OID) return (text: string) => (INTEGRAL.test(text) ? integer(text) : text);
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

type Queryable = pg.Pool | pg.PoolClient;

function config(sql: string, params: Params | undefined): pg.QueryConfig<unknown[]> {
  const statement = toPostgres(sql);
  const values = bindValues(statement, params);
  const prepared = values.length > 0 && !WHOLE_ROW.test(statement.text);
  return { text: statement.text, values, types: resultTypes, ...(prepared ? { name: statement.name } : {}) };
}

/**
 * A statement with parameters runs as a named prepared statement: each pooled connection
 * parses and plans it once instead of on every call (a third of a query's time on a status
 * poll, measured). Texts without parameters (migrations, several statements) stay unnamed, and
 * so do `*` row reads: a prepared `SELECT *` fails with "cached plan must not change result
 * type" once another process's migration adds a column, while a listed column set does not change.
 */
const WHOLE_ROW = /\bSELECT\s+\*|\.\*|\bRETURNING\s+\*/i;

function query(on: Queryable, sql: string, params: Params | undefined): Promise<pg.QueryResult> {
  return on.query(config(sql, params));
}

/** Rows as arrays: the first column even when two columns share a name. */
async function firstValue<T>(on: Queryable, sql: string, params: Params | undefined): Promise<T | undefined> {
  const row = (await on.query({ ...config(sql, params), rowMode: 'array' })).rows[0];
  return row === undefined ? undefined : (row[0] as T);
}

async function changes(on: Queryable, sql: string, params: Params | undefined): Promise<RunResult> {
  // A text of several statements (a migration) answers one result per statement.
  const result = (await query(on, sql, params)) as pg.QueryResult | pg.QueryResult[];
  const results = Array.isArray(result) ? result : [result];
  return { changes: results.reduce((sum, r) => sum + (r.rowCount ?? 0), 0) };
}

interface OpenTransaction {
  active: boolean;
  /** Resolves when the transaction has committed or rolled back. */
  ended: Promise<void>;
}

/** Statements of one open transaction (or of its savepoints), on its own connection. */
class TransactionHandle implements PostgresDatabase {
  readonly dialect = 'postgres' as const;
  private savepoints = 0;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly open: OpenTransaction,
  ) {}

  private check(): void {
    if (!this.open.active) throw new Error('this transaction has ended: a statement used its handle after commit or rollback');
  }

  async get<R = Row>(sql: string, params?: Params): Promise<R | undefined> {
    this.check();
    return (await query(this.client, sql, params)).rows[0] as R | undefined;
  }

  async all<R = Row>(sql: string, params?: Params): Promise<R[]> {
    this.check();
    return (await query(this.client, sql, params)).rows as R[];
  }

  async value<T = unknown>(sql: string, params?: Params): Promise<T | undefined> {
    this.check();
    return firstValue<T>(this.client, sql, params);
  }

  async run(sql: string, params?: Params): Promise<RunResult> {
    this.check();
    return changes(this.client, sql, params);
  }

  async withTransaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    this.check();
    const name = `beem_sp_${++this.savepoints}`;
    await this.client.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      throw err;
    } finally {
      this.savepoints--;
    }
  }

  async rawQuery(text: string, values?: unknown[]): Promise<{ rows: Row[] }> {
    this.check();
    return this.client.query(text, values);
  }

  async openSession(): Promise<PostgresSession> {
    throw new Error('openSession() on a transaction handle: sessions come from the database, not a transaction');
  }

  async end(): Promise<void> {
    throw new Error('end() on a transaction handle: close the database, not the transaction');
  }
}

/** The pool-level handle: any free connection per statement; from inside its own transaction it waits for it to end (own-transaction.ts). */
class PoolHandle implements PostgresDatabase {
  readonly dialect = 'postgres' as const;
  private readonly inside = new AsyncLocalStorage<OpenTransaction>();
  private ended = false;

  constructor(private readonly pool: pg.Pool) {}

  /** From inside an open transaction's async context: wait for it to end (own-transaction.ts). */
  private async outsideOwnTransaction(): Promise<void> {
    const open = this.inside.getStore();
    if (open?.active) await waitForOwnTransaction(open.ended);
  }

  async get<R = Row>(sql: string, params?: Params): Promise<R | undefined> {
    await this.outsideOwnTransaction();
    return (await query(this.pool, sql, params)).rows[0] as R | undefined;
  }

  async all<R = Row>(sql: string, params?: Params): Promise<R[]> {
    await this.outsideOwnTransaction();
    return (await query(this.pool, sql, params)).rows as R[];
  }

  async value<T = unknown>(sql: string, params?: Params): Promise<T | undefined> {
    await this.outsideOwnTransaction();
    return firstValue<T>(this.pool, sql, params);
  }

  async run(sql: string, params?: Params): Promise<RunResult> {
    await this.outsideOwnTransaction();
    return changes(this.pool, sql, params);
  }

  async withTransaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    await this.outsideOwnTransaction();
    const client = await this.pool.connect();
    let finish!: () => void;
    const open: OpenTransaction = { active: true, ended: new Promise<void>((resolve) => (finish = resolve)) };
    let broken: Error | undefined;
    try {
      await client.query(BEGIN);
      let result: T;
      try {
        result = await this.inside.run(open, () => fn(new TransactionHandle(client, open)));
      } finally {
        open.active = false;
      }
      const commit = await client.query('COMMIT');
      // COMMIT of a transaction in which a statement failed answers ROLLBACK, without an error.
      if (commit.command === 'ROLLBACK') {
        throw new Error('the transaction was rolled back: a statement in it failed and its error was caught inside the body');
      }
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw err;
    } finally {
      // A connection that could not even roll back is closed, not handed to the next caller.
      client.release(broken);
      finish();
    }
  }

  rawQuery(text: string, values?: unknown[]): Promise<{ rows: Row[] }> {
    return this.pool.query(text, values);
  }

  async openSession(): Promise<PostgresSession> {
    const client = await this.pool.connect();
    return {
      query: (text, values) => client.query(text, values),
      release: (err) => client.release(err),
    };
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}

const pools = new WeakMap<Database, pg.Pool>();

/** Wraps a `pg` pool; `end()` closes the pool. */
export function postgresDatabase(pool: pg.Pool): PostgresDatabase {
  const db = new PoolHandle(pool);
  pools.set(db, pool);
  return db;
}

/**
 * The pool behind a PostgreSQL database, for a library that speaks `pg` itself (the shared rate
 * limits' store); null for SQLite or a transaction handle. Its statements run outside the
 * seam: no SQL translation, no transaction lock.
 */
export function postgresPoolOf(db: Database): pg.Pool | null {
  return pools.get(db) ?? null;
}
