import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backupDatabase, migrate, openDatabase, STATEMENT_CACHE_SIZE, type Db } from '../../src/lib/db/index.ts';
import { migrations } from '../../src/lib/db/migrations/index.ts';
import { tempDir } from '../helpers/app.ts';

const opened: Db[] = [];
function open(file: string): Db {
  const db = openDatabase(file);
  opened.push(db);
  return db;
}
afterEach(() => {
  for (const db of opened.splice(0)) if (db.open) db.close();
});

const tables = (db: Db) =>
  db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[];

describe('database', () => {
  it('creates the schema on a fresh file with WAL and foreign keys on', () => {
    const db = open(path.join(tempDir(), 'nested', 'beem.db'));
    expect(migrate(db)).toEqual(migrations.map((m) => m.id));
    expect(tables(db)).toEqual(
      expect.arrayContaining([
        'users', 'sessions', 'generations', 'payments', 'admin_subscriptions',
        'credit_ledger', 'uploads', 'generation_events', 'admin_audit', 'operator_alerts', 'schema_migrations',
      ]),
    );
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('re-running on an existing database applies nothing and keeps the data', () => {
    const file = path.join(tempDir(), 'beem.db');
    const first = open(file);
    migrate(first);
    first.prepare(
      `INSERT INTO users (id, email, name, auth_provider, auth_subject, createdAt, updatedAt) VALUES ('u1', 'a@b.c', 'A', 'oidc', 's1', 1, 1)`,
    ).run();
    first.close();
    const second = open(file);
    expect(migrate(second)).toEqual([]);
    expect(second.prepare('SELECT email FROM users').pluck().get()).toBe('a@b.c');
  });

  it('rolls a failing migration back entirely and records nothing for it', () => {
    const db = open(path.join(tempDir(), 'beem.db'));
    migrate(db);
    const broken = [...migrations, { id: 999, name: 'broken', sql: 'CREATE TABLE half (x INTEGER); SELECT nope FROM missing;' }];
    expect(() => migrate(db, broken)).toThrow(/no such table/);
    expect(tables(db)).not.toContain('half');
    expect(db.prepare('SELECT id FROM schema_migrations WHERE id = 999').get()).toBeUndefined();
  });

  it('refuses a negative balance at the database level', () => {
    const db = open(':memory:');
    migrate(db);
    db.prepare(
      `INSERT INTO users (id, email, name, auth_provider, auth_subject, createdAt, updatedAt) VALUES ('u1', 'a@b.c', 'A', 'oidc', 's1', 1, 1)`,
    ).run();
    expect(() => db.prepare(`UPDATE users SET generation_balance = -1 WHERE id = 'u1'`).run()).toThrow(/CHECK constraint/);
  });

  it('makes a consistent online backup', async () => {
    const dir = tempDir();
    const db = open(path.join(dir, 'beem.db'));
    migrate(db);
    db.prepare(
      `INSERT INTO users (id, email, name, auth_provider, auth_subject, createdAt, updatedAt) VALUES ('u1', 'a@b.c', 'A', 'oidc', 's1', 1, 1)`,
    ).run();
    const target = path.join(dir, 'backups', 'copy.db');
    await backupDatabase(db, target);
    expect(fs.existsSync(target)).toBe(true);
    const copy = open(target);
    expect(copy.prepare('SELECT COUNT(*) FROM users').pluck().get()).toBe(1);
  });
});

describe('prepared statement reuse', () => {
  it('hands back one compiled statement per SQL text, with plucking reset for each caller', () => {
    const db = openDatabase(':memory:');
    try {
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)');
      db.prepare('INSERT INTO t (name) VALUES (?)').run('a');
      const sql = 'SELECT id, name FROM t WHERE id = ?';
      expect(db.prepare(sql)).toBe(db.prepare(sql));
      expect(db.prepare(sql).pluck().get(1)).toBe(1);
      expect(db.prepare(sql).get(1)).toEqual({ id: 1, name: 'a' });
      expect(db.prepare('INSERT INTO t (name) VALUES (?)').run('b').changes).toBe(1);
    } finally {
      db.close();
    }
  });

  it('keeps at most STATEMENT_CACHE_SIZE statements, dropping the oldest', () => {
    const db = openDatabase(':memory:');
    try {
      const first = db.prepare('SELECT 0');
      for (let i = 1; i <= STATEMENT_CACHE_SIZE; i++) db.prepare(`SELECT ${i}`);
      expect(db.prepare('SELECT 0')).not.toBe(first);
      expect(db.prepare('SELECT 0').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });
});
