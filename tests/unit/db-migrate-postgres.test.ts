import { afterEach, describe, expect, it } from 'vitest';
import { migratePostgres } from '../../src/lib/db/migrate-postgres.ts';
import { postgresMigrations } from '../../src/lib/db/migrations-pg/index.ts';
import { migrations as sqliteMigrations } from '../../src/lib/db/migrations/index.ts';
import { createTestDatabase, type TestPostgres } from '../helpers/postgres.ts';

const databases: TestPostgres[] = [];
afterEach(async () => {
  for (const database of databases.splice(0)) await database.drop();
});

async function fresh(createOptions = ''): Promise<TestPostgres> {
  const database = await createTestDatabase(createOptions);
  databases.push(database);
  return database;
}

const allIds = postgresMigrations.map((m) => m.id);
const tables = (database: TestPostgres) =>
  database.db
    .all<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)
    .then((rows) => rows.map((r) => r.name));

describe('migratePostgres', () => {
  it('has a twin for every SQLite migration, under the same id and name', () => {
    expect(postgresMigrations.map(({ id, name }) => ({ id, name }))).toEqual(sqliteMigrations.map(({ id, name }) => ({ id, name })));
  });

  it('applies every migration once and records it; a second run applies nothing and keeps the data', async () => {
    const database = await fresh();
    expect(await migratePostgres(database.db, postgresMigrations, 1234)).toEqual(allIds);
    await database.db.run(
      `INSERT INTO users (id, email, name, auth_provider, auth_subject, createdAt, updatedAt) VALUES ('u1', 'a@b.c', 'A', 'oidc', 's1', 1, 1)`,
    );
    expect(await migratePostgres(database.db)).toEqual([]);
    expect(await database.db.all('SELECT id, name, appliedAt FROM schema_migrations ORDER BY id')).toEqual(
      postgresMigrations.map(({ id, name }) => ({ id, name, appliedAt: 1234 })),
    );
    expect(await database.db.value('SELECT email FROM users')).toBe('a@b.c');
  });

  it('applies each migration exactly once when two processes start together', async () => {
    const database = await fresh();
    const [first, second] = await Promise.all([migratePostgres(database.db), migratePostgres(database.connect())]);
    expect([...first!, ...second!].sort((a, b) => a - b)).toEqual(allIds);
    expect(await database.db.value('SELECT COUNT(*) FROM schema_migrations')).toBe(allIds.length);
  });

  it('rolls a failing migration back entirely and records nothing for it', async () => {
    const database = await fresh();
    await migratePostgres(database.db);
    const broken = [...postgresMigrations, { id: 999, name: 'broken', sql: 'CREATE TABLE half (x INTEGER); SELECT nope FROM missing;' }];
    await expect(migratePostgres(database.db, broken)).rejects.toThrow(/relation "missing" does not exist/);
    expect(await tables(database)).not.toContain('half');
    expect(await database.db.value('SELECT 1 FROM schema_migrations WHERE id = 999')).toBeUndefined();
  });

  it("folds Cyrillic in unicode_lower() as JavaScript does, even in a database whose own locale folds ASCII only", async () => {
    const text = 'ПРИВЕТ, Ёжик! HELLO';
    const database = await fresh(`TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER libc LOCALE 'C'`);
    await migratePostgres(database.db);
    expect(await database.db.value('SELECT lower(?)', [text])).toBe('ПРИВЕТ, Ёжик! hello');
    expect(await database.db.value('SELECT unicode_lower(?)', [text])).toBe(text.toLowerCase());
    expect(await database.db.value('SELECT unicode_lower(NULL)')).toBeNull();
  });
});
