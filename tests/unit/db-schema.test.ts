import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../src/lib/db/index.ts';
import { inTransaction, type Database } from '../../src/lib/db/database.ts';
import { migratePostgres } from '../../src/lib/db/migrate-postgres.ts';
import { tempDir } from '../helpers/app.ts';
import { createTestDatabase, type TestPostgres } from '../helpers/postgres.ts';

/**
 * The SQLite migrations (migrations/) and their PostgreSQL twins (migrations-pg/) must give the
 * services the same schema: the same tables, columns and indexes, and the same refusals — the
 * money rules above all (no negative balance, one ledger row per reference).
 */
interface Column {
  table: string;
  column: string;
  type: 'integer' | 'text';
  notNull: boolean;
}

interface Index {
  name: string;
  table: string;
  unique: boolean;
  partial: boolean;
}

interface Engine {
  name: string;
  open(): Promise<{ db: Database; close(): Promise<void> }>;
  columns(db: Database): Promise<Column[]>;
  indexes(db: Database): Promise<Index[]>;
  refusal: Record<Refusal, RegExp>;
}

type Refusal = 'check' | 'unique' | 'foreign key' | 'not null';

const byName = <T extends { table: string }>(key: (row: T) => string) => (a: T, b: T) =>
  `${a.table}.${key(a)}`.localeCompare(`${b.table}.${key(b)}`);

const sqlite: Engine = {
  name: 'SQLite',
  open: async () => {
    const db = openDatabase(path.join(tempDir(), 'schema.db'));
    migrate(db);
    return { db, close: () => db.end() };
  },
  columns: async (db) => {
    const rows = await db.all<{ table: string; column: string; type: string; notnull: number; pk: number }>(
      `SELECT m.name AS "table", c.name AS "column", c.type, c."notnull", c.pk
         FROM sqlite_master m JOIN pragma_table_info(m.name) c
        WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`,
    );
    // A SQLite primary key of another type than INTEGER admits NULL unless declared NOT NULL (an
    // old SQLite quirk); the application never stores one, and PostgreSQL's key is NOT NULL.
    return rows
      .map((r) => ({ table: r.table, column: r.column, type: r.type === 'INTEGER' ? 'integer' : 'text', notNull: r.notnull === 1 || r.pk > 0 }) as Column)
      .sort(byName<Column>((c) => c.column));
  },
  indexes: async (db) => {
    const rows = await db.all<{ table: string; name: string; unique: number; partial: number }>(
      `SELECT m.name AS "table", i.name, i."unique", i.partial
         FROM sqlite_master m JOIN pragma_index_list(m.name) i
        WHERE m.type = 'table' AND i.origin = 'c'`,
    );
    return rows.map((r) => ({ name: r.name, table: r.table, unique: r.unique === 1, partial: r.partial === 1 })).sort(byName<Index>((i) => i.name));
  },
  refusal: {
    check: /CHECK constraint failed/,
    unique: /UNIQUE constraint failed/,
    'foreign key': /FOREIGN KEY constraint failed/,
    'not null': /NOT NULL constraint failed/,
  },
};

const postgres: Engine = {
  name: 'PostgreSQL',
  open: async () => {
    const database: TestPostgres = await createTestDatabase();
    await migratePostgres(database.db);
    return { db: database.db, close: () => database.drop() };
  },
  columns: async (db) => {
    const rows = await db.all<{ table: string; column: string; type: string; nullable: string }>(
      `SELECT table_name AS "table", column_name AS "column", data_type AS type, is_nullable AS nullable
         FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    // `rowid` of uploads and payments is SQLite's implicit one, which pragma_table_info does not list.
    const implicitOnSqlite = (r: { table: string; column: string }) => r.column === 'rowid' && ['uploads', 'payments'].includes(r.table);
    return rows
      .filter((r) => !implicitOnSqlite(r))
      .map((r) => ({ table: r.table, column: r.column, type: ['integer', 'bigint'].includes(r.type) ? 'integer' : 'text', notNull: r.nullable === 'NO' }) as Column)
      .sort(byName<Column>((c) => c.column));
  },
  indexes: async (db) => {
    // Indexes created by CREATE INDEX, not those behind PRIMARY KEY or UNIQUE constraints (SQLite's origin 'c').
    const rows = await db.all<{ table: string; name: string; unique: number; partial: number }>(
      `SELECT t.relname AS "table", c.relname AS name, x.indisunique AS "unique", x.indpred IS NOT NULL AS partial
         FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)`,
    );
    return rows.map((r) => ({ name: r.name, table: r.table, unique: r.unique === 1, partial: r.partial === 1 })).sort(byName<Index>((i) => i.name));
  },
  refusal: {
    check: /violates check constraint/,
    unique: /duplicate key value violates unique constraint/,
    'foreign key': /violates foreign key constraint/,
    'not null': /violates not-null constraint/,
  },
};

const USER = (id: string) =>
  `INSERT INTO users (id, email, name, auth_provider, auth_subject, createdAt, updatedAt) VALUES ('${id}', '${id}@example.com', 'N', 'oidc', '${id}', 1, 1)`;
/** A generation of user u1, with extra columns as SQL literals. */
const GENERATION = (id: string, extra: Record<string, string> = {}) =>
  `INSERT INTO generations (id, userId, duration, cost, createdAt, updatedAt${Object.keys(extra).map((c) => `, ${c}`).join('')})
   VALUES ('${id}', 'u1', 6, 1, 1, 1${Object.values(extra).map((v) => `, ${v}`).join('')})`;
const LEDGER = (reference: string, delta = 3) =>
  `INSERT INTO credit_ledger (userId, delta, kind, reference, balance_after, createdAt) VALUES ('u1', ${delta}, 'trial', '${reference}', 3, 1)`;
/** A payment of user u1, with extra columns as SQL literals. */
const PAYMENT = (id: string, extra: Record<string, string> = {}) =>
  `INSERT INTO payments (id, userId, amount_kopecks, plan, idempotence_key, createdAt, updatedAt${Object.keys(extra).map((c) => `, ${c}`).join('')})
   VALUES ('${id}', 'u1', 49900, 'basic', 'key-${id}', 1, 1${Object.values(extra).map((v) => `, ${v}`).join('')})`;

/** Each: rows that must go in first, then one statement both engines must refuse. */
const refusals: Array<{ name: string; seed: string[]; refused: string; because: Refusal }> = [
  { name: 'a negative balance', seed: [USER('u1')], refused: `UPDATE users SET generation_balance = -1 WHERE id = 'u1'`, because: 'check' },
  { name: 'a ledger row leaving a negative balance', seed: [USER('u1')], refused: `INSERT INTO credit_ledger (userId, delta, kind, reference, balance_after, createdAt) VALUES ('u1', -1, 'hold', 'hold:g1', -1, 1)`, because: 'check' },
  { name: 'a second ledger row with the same reference', seed: [USER('u1'), LEDGER('trial:u1')], refused: LEDGER('trial:u1', 5), because: 'unique' },
  { name: 'a ledger row of no change', seed: [USER('u1')], refused: LEDGER('trial:u1', 0), because: 'check' },
  { name: 'a ledger kind outside the list', seed: [USER('u1')], refused: `INSERT INTO credit_ledger (userId, delta, kind, reference, balance_after, createdAt) VALUES ('u1', 1, 'gift', 'gift:1', 1, 1)`, because: 'check' },
  { name: 'a ledger row for a user who does not exist', seed: [], refused: LEDGER('trial:nobody'), because: 'foreign key' },
  { name: 'a generation status outside the list', seed: [USER('u1')], refused: GENERATION('g1', { status: `'done'` }), because: 'check' },
  { name: 'a generation step outside the list', seed: [USER('u1')], refused: GENERATION('g1', { step: `'upload'` }), because: 'check' },
  { name: 'a generation length other than 6 or 10 s', seed: [USER('u1')], refused: `INSERT INTO generations (id, userId, duration, cost, createdAt, updatedAt) VALUES ('g1', 'u1', 7, 1, 1, 1)`, because: 'check' },
  { name: 'a generation both charged and refunded', seed: [USER('u1'), GENERATION('g1')], refused: `UPDATE generations SET charged = 1, refunded = 1 WHERE id = 'g1'`, because: 'check' },
  { name: 'a flag other than 0 or 1', seed: [USER('u1'), GENERATION('g1')], refused: `UPDATE generations SET charged = 2 WHERE id = 'g1'`, because: 'check' },
  { name: 'a second generation with the same MiniMax task', seed: [USER('u1'), GENERATION('g1', { minimax_job_id: `'t1'` })], refused: GENERATION('g2', { minimax_job_id: `'t1'` }), because: 'unique' },
  { name: 'a second generation with the same idempotency key', seed: [USER('u1'), GENERATION('g1', { idempotency_key: `'k'` })], refused: GENERATION('g2', { idempotency_key: `'k'` }), because: 'unique' },
  { name: 'a focus point outside the photo', seed: [USER('u1'), GENERATION('g1')], refused: `UPDATE generations SET focus_x = 1001 WHERE id = 'g1'`, because: 'check' },
  { name: 'a video format outside the list', seed: [USER('u1'), GENERATION('g1')], refused: `UPDATE generations SET video_format = '4:5' WHERE id = 'g1'`, because: 'check' },
  { name: 'a generation without its user', seed: [], refused: `INSERT INTO generations (id, userId, duration, cost, createdAt, updatedAt) VALUES ('g1', 'nobody', 6, 1, 1, 1)`, because: 'foreign key' },
  { name: 'a generation of an upload that does not exist', seed: [USER('u1')], refused: GENERATION('g1', { upload_id: `'missing'` }), because: 'foreign key' },
  { name: 'deleting an upload a generation was made from', seed: [USER('u1'), `INSERT INTO uploads (id, userId, path, mime, width, height, bytes, createdAt) VALUES ('up1', 'u1', 'p', 'image/png', 400, 400, 10, 1)`, GENERATION('g1', { upload_id: `'up1'` })], refused: `DELETE FROM uploads WHERE id = 'up1'`, because: 'foreign key' },
  { name: 'a payment status outside the list', seed: [USER('u1')], refused: PAYMENT('p1', { status: `'paid'` }), because: 'check' },
  { name: 'a payment of no money', seed: [USER('u1')], refused: `INSERT INTO payments (id, userId, amount_kopecks, plan, idempotence_key, createdAt, updatedAt) VALUES ('p1', 'u1', 0, 'basic', 'k', 1, 1)`, because: 'check' },
  { name: 'a second payment with the same YooKassa id', seed: [USER('u1'), PAYMENT('p1', { externalPaymentId: `'yk1'` })], refused: PAYMENT('p2', { externalPaymentId: `'yk1'` }), because: 'unique' },
  { name: 'a second payment with the same idempotence key', seed: [USER('u1'), PAYMENT('p1')], refused: `INSERT INTO payments (id, userId, amount_kopecks, plan, idempotence_key, createdAt, updatedAt) VALUES ('p2', 'u1', 100, 'basic', 'key-p1', 1, 1)`, because: 'unique' },
  { name: 'a payment without its plan', seed: [USER('u1')], refused: `INSERT INTO payments (id, userId, amount_kopecks, idempotence_key, createdAt, updatedAt) VALUES ('p1', 'u1', 100, 'k', 1, 1)`, because: 'not null' },
  { name: 'a second user with the same email', seed: [USER('u1')], refused: `INSERT INTO users (id, email, name, auth_provider, auth_subject, createdAt, updatedAt) VALUES ('u2', 'u1@example.com', 'N', 'oidc', 'other', 1, 1)`, because: 'unique' },
  { name: 'a second user with the same sign-in subject', seed: [USER('u1')], refused: `INSERT INTO users (id, email, name, auth_provider, auth_subject, createdAt, updatedAt) VALUES ('u2', 'other@example.com', 'N', 'oidc', 'u1', 1, 1)`, because: 'unique' },
  { name: 'a role outside the list', seed: [USER('u1')], refused: `UPDATE users SET role = 'owner' WHERE id = 'u1'`, because: 'check' },
  { name: 'a second export of the same video, target, fit and kind', seed: [USER('u1'), GENERATION('g1'), `INSERT INTO video_exports (generationId, target, fit, kind, requestedAt, updatedAt) VALUES ('g1', 'wb', 'blur', 'video', 1, 1)`], refused: `INSERT INTO video_exports (generationId, target, fit, kind, requestedAt, updatedAt) VALUES ('g1', 'wb', 'blur', 'video', 2, 2)`, because: 'unique' },
  { name: 'an export state outside the list', seed: [USER('u1'), GENERATION('g1')], refused: `INSERT INTO video_exports (generationId, target, fit, kind, state, requestedAt, updatedAt) VALUES ('g1', 'wb', 'blur', 'video', 'queued', 1, 1)`, because: 'check' },
  { name: 'a second admin action with the same request key', seed: [`INSERT INTO admin_audit (actor, action, request_key, createdAt) VALUES ('cli', 'grant', 'r1', 1)`], refused: `INSERT INTO admin_audit (actor, action, request_key, createdAt) VALUES ('cli', 'revoke', 'r1', 2)`, because: 'unique' },
  { name: 'an alert delivery outside the list', seed: [], refused: `INSERT INTO operator_alerts (stage, message, delivery, createdAt) VALUES ('X', 'm', 'queued', 1)`, because: 'check' },
  { name: 'a retention setting outside 1–3650 days', seed: [USER('u1'), GENERATION('g1')], refused: `UPDATE generations SET retention_days = 0 WHERE id = 'g1'`, because: 'check' },
  { name: 'a second deletion of the same file', seed: [`INSERT INTO blob_deletions (blob_key, queuedAt) VALUES ('users/u1/videos/a.mp4', 1)`], refused: `INSERT INTO blob_deletions (blob_key, queuedAt) VALUES ('users/u1/videos/a.mp4', 2)`, because: 'unique' },
  { name: 'a preview source outside the list', seed: [USER('u1')], refused: `INSERT INTO prompt_previews (id, userId, input_key, mode, duration, prompt, source, result, createdAt, expiresAt) VALUES ('v1', 'u1', 'k', 'prompt', 6, 'p', 'cache', '{}', 1, 2)`, because: 'check' },
];

/** Runs `fn` in a transaction that is then rolled back: every case starts from the same empty schema. */
async function undone<T>(db: Database, fn: (tx: Database) => Promise<T>): Promise<T> {
  const undo = new Error('undo the case');
  let result!: T;
  await expect(
    inTransaction(db, async (tx) => {
      result = await fn(tx);
      throw undo;
    }),
  ).rejects.toBe(undo);
  return result;
}

async function runAll(tx: Database, statements: string[]): Promise<void> {
  for (const statement of statements) await tx.run(statement);
}

/** The error of `refused` after `seed`, in a savepoint (a failed statement would otherwise abort a PostgreSQL transaction). */
function refusalOf(db: Database, seed: string[], refused: string): Promise<unknown> {
  return undone(db, async (tx) => {
    await runAll(tx, seed);
    return inTransaction(tx, (savepoint) => savepoint.run(refused)).then(
      () => null,
      (err: unknown) => err,
    );
  });
}

describe('the schema after all migrations', () => {
  const engines = [sqlite, postgres];
  const opened = new Map<Engine, { db: Database; close(): Promise<void> }>();
  beforeAll(async () => {
    for (const engine of engines) opened.set(engine, await engine.open());
  });
  afterAll(async () => {
    for (const { close } of opened.values()) await close();
  });
  const dbOf = (engine: Engine) => opened.get(engine)!.db;

  it('has the same tables and columns, of the same kind and nullability, on both engines', async () => {
    const [onSqlite, onPostgres] = await Promise.all(engines.map((engine) => engine.columns(dbOf(engine))));
    expect(onSqlite!.length).toBeGreaterThan(100);
    expect(onPostgres).toEqual(onSqlite);
  });

  it('has the same indexes, unique and partial where SQLite has them', async () => {
    const [onSqlite, onPostgres] = await Promise.all(engines.map((engine) => engine.indexes(dbOf(engine))));
    expect(onSqlite!.filter((i) => i.partial).map((i) => i.name)).toEqual(
      expect.arrayContaining(['idx_generations_live', 'idx_generations_late', 'idx_generations_job', 'idx_payments_open', 'idx_generations_retention']),
    );
    expect(onPostgres).toEqual(onSqlite);
  });

  describe.each(engines)('on $name', (engine) => {
    it.each(refusals)('refuses $name ($because)', async ({ seed, refused, because }) => {
      const error = await refusalOf(dbOf(engine), seed, refused);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(engine.refusal[because]);
    });

    it('accepts the rows the refusals were measured against', async () => {
      // Each refused statement differs from an accepted one in the one value under test.
      const db = dbOf(engine);
      const accepted = [
        USER('u1'),
        `UPDATE users SET generation_balance = 0 WHERE id = 'u1'`,
        LEDGER('trial:u1'),
        LEDGER('trial:u1-again', -3),
        GENERATION('g1', { minimax_job_id: `'t1'` }),
        GENERATION('g2', { minimax_job_id: `'t2'` }),
        `UPDATE generations SET charged = 1, focus_x = 1000, video_format = '9:16', retention_days = 3650 WHERE id = 'g1'`,
        PAYMENT('p1', { externalPaymentId: `'yk1'`, status: `'waiting_for_capture'` }),
        `INSERT INTO video_exports (generationId, target, fit, kind, requestedAt, updatedAt) VALUES ('g1', 'wb', 'blur', 'cover', 1, 1)`,
      ];
      await undone(db, (tx) => runAll(tx, accepted));
    });

    it('deletes a user with their sessions, generations (and events), ledger and payments, and keeps their admin actions without them', async () => {
      const db = dbOf(engine);
      const counts = `SELECT (SELECT COUNT(*) FROM sessions) AS sessions, (SELECT COUNT(*) FROM generations) AS generations,
        (SELECT COUNT(*) FROM generation_events) AS events, (SELECT COUNT(*) FROM credit_ledger) AS ledger, (SELECT COUNT(*) FROM payments) AS payments,
        (SELECT COUNT(*) FROM admin_audit WHERE adminId IS NULL) AS orphanedAudit`;
      const after = await undone(db, async (tx) => {
        await runAll(tx, [
          USER('u1'),
          `INSERT INTO sessions (id, userId, token_hash, expiresAt, createdAt) VALUES ('s1', 'u1', 'h', 9, 1)`,
          GENERATION('g1'),
          `INSERT INTO generation_events (generationId, kind, createdAt) VALUES ('g1', 'created', 1)`,
          LEDGER('trial:u1'),
          PAYMENT('p1'),
          `INSERT INTO admin_audit (adminId, actor, action, createdAt) VALUES ('u1', 'u1@example.com', 'grant', 1)`,
        ]);
        await tx.run(`DELETE FROM users WHERE id = 'u1'`);
        return tx.get(counts);
      });
      expect(after).toEqual({ sessions: 0, generations: 0, events: 0, ledger: 0, payments: 0, orphanedAudit: 1 });
    });
  });
});
