import { describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/lib/db/database.ts';
import { usePostgresDatabase } from '../helpers/postgres.ts';

/**
 * What the PostgreSQL driver adds beyond the seam's shared contract (db-seam.test.ts): values
 * come back as SQLite gives them, and the places where PostgreSQL itself behaves differently.
 */
describe('the PostgreSQL driver', () => {
  const database = usePostgresDatabase();

  it('returns bigint and integral numeric values as exact JS numbers, and refuses one that would be rounded', async () => {
    const { db } = database();
    await db.run('CREATE TABLE amounts (id INTEGER PRIMARY KEY, kopecks BIGINT NOT NULL, at BIGINT)');
    await db.run('INSERT INTO amounts (id, kopecks, at) VALUES (1, ?, ?), (2, ?, NULL)', [4_999_900, 1_764_755_200_123, 100]);
    expect(await db.all('SELECT id, kopecks, at FROM amounts ORDER BY id')).toEqual([
      { id: 1, kopecks: 4_999_900, at: 1_764_755_200_123 },
      { id: 2, kopecks: 100, at: null },
    ]);
    // COUNT is bigint, SUM of bigint is numeric: both are numbers, as on SQLite.
    expect(await db.get('SELECT COUNT(*) AS n, SUM(kopecks) AS total FROM amounts')).toEqual({ n: 2, total: 5_000_000 });
    expect(await db.value('SELECT ?::bigint', [Number.MAX_SAFE_INTEGER])).toBe(Number.MAX_SAFE_INTEGER);
    await expect(db.value('SELECT ?::bigint + 1', [Number.MAX_SAFE_INTEGER])).rejects.toThrow(/does not fit a JS number exactly/);
    // A fractional numeric stays exact, as text.
    expect(await db.value('SELECT CAST(2.50 AS numeric(6, 2))')).toBe('2.50');
  });

  it('returns a boolean expression as 1 or 0, as SQLite does', async () => {
    const { db } = database();
    expect(await db.get('SELECT 1 < 2 AS yes, 1 > 2 AS no, NULL::boolean AS unknown')).toEqual({ yes: 1, no: 0, unknown: null });
  });

  it('reads a value from the first column even when two columns share its name', async () => {
    const { db } = database();
    expect(await db.value('SELECT 1 AS x, 2 AS x')).toBe(1);
  });

  it('binds named parameters used several times, and quoted mixed-case columns answer under their own names', async () => {
    const { db } = database();
    await db.run('CREATE TABLE people ("userId" TEXT PRIMARY KEY, "createdAt" BIGINT NOT NULL, "updatedAt" BIGINT NOT NULL)');
    await db.run('INSERT INTO people (userId, createdAt, updatedAt) VALUES (@id, @now, @now)', { id: 'u1', now: 5 });
    expect(await db.get('SELECT userId, createdAt AS madeAt FROM people WHERE updatedAt = @now', { now: 5 })).toEqual({
      userId: 'u1',
      madeAt: 5,
    });
    await expect(db.get('SELECT userId FROM people WHERE createdAt = @now', {})).rejects.toThrow('Missing named parameter "now"');
  });

  it('prepares a statement with parameters once per connection, and runs it again without parsing it', async () => {
    const { db } = database();
    const count = await inTransaction(db, async (tx) => {
      for (let i = 0; i < 3; i++) expect(await tx.value('SELECT CAST(? AS integer) + 1 AS n', [i])).toBe(i + 1);
      return tx.value(`SELECT COUNT(*) FROM pg_prepared_statements WHERE statement = 'SELECT CAST($1 AS integer) + 1 AS n'`);
    });
    expect(count).toBe(1);
  });

  it('keeps reading whole rows (SELECT *, RETURNING *) after another process adds a column, and listed columns too', async () => {
    const { db, connect } = database();
    await db.run('CREATE TABLE things (id TEXT PRIMARY KEY, label TEXT NOT NULL)');
    await db.run(`INSERT INTO things (id, label) VALUES ('a', 'first')`);
    const read = () =>
      inTransaction(db, async (tx) => ({
        whole: await tx.get('SELECT * FROM things WHERE id = ?', ['a']),
        listed: await tx.get('SELECT id, label FROM things WHERE id = ?', ['a']),
        returned: await tx.get('UPDATE things SET label = label WHERE id = ? RETURNING *', ['a']),
      }));
    await read();
    // Another process (a newer version starting up) migrates while this one keeps running.
    const other = connect();
    await other.run(`ALTER TABLE things ADD COLUMN note TEXT NOT NULL DEFAULT 'new'`);
    const after = await read();
    expect(after.whole).toEqual({ id: 'a', label: 'first', note: 'new' });
    expect(after.listed).toEqual({ id: 'a', label: 'first' });
    expect(after.returned).toEqual({ id: 'a', label: 'first', note: 'new' });
  });

  it('refuses to commit a transaction in which a statement failed, even when the body caught the error', async () => {
    const { db } = database();
    await db.run('CREATE TABLE once (k TEXT PRIMARY KEY)');
    await expect(
      inTransaction(db, async (tx) => {
        await tx.run(`INSERT INTO once (k) VALUES ('a')`);
        await tx.run(`INSERT INTO once (k) VALUES ('a')`).catch(() => undefined);
        return 'looked fine';
      }),
    ).rejects.toThrow(/transaction was rolled back/);
    expect(await db.value('SELECT COUNT(*) FROM once')).toBe(0);
    // A savepoint is the way to survive a failed statement.
    await inTransaction(db, async (tx) => {
      await tx.run(`INSERT INTO once (k) VALUES ('a')`);
      await expect(inTransaction(tx, (inner) => inner.run(`INSERT INTO once (k) VALUES ('a')`))).rejects.toThrow(/duplicate key/);
      await tx.run(`INSERT INTO once (k) VALUES ('b')`);
    });
    expect(await db.all('SELECT k FROM once ORDER BY k')).toEqual([{ k: 'a' }, { k: 'b' }]);
  });

  it('runs transactions one at a time across separate pools, as separate processes would', async () => {
    const test = database();
    const other = test.connect();
    await test.db.run('CREATE TABLE counter (n INTEGER NOT NULL)');
    await test.db.run('INSERT INTO counter (n) VALUES (0)');
    const bump = (_: unknown, i: number) =>
      inTransaction(i % 2 === 0 ? test.db : other, async (tx) => {
        const n = (await tx.value<number>('SELECT n FROM counter'))!;
        await new Promise<void>((resolve) => setImmediate(resolve));
        await tx.run('UPDATE counter SET n = ?', [n + 1]);
      });
    await Promise.all(Array.from({ length: 20 }, bump));
    expect(await test.db.value('SELECT n FROM counter')).toBe(20);
  });

  it('closes its pool on end(): later statements fail, a second end() does nothing', async () => {
    const db = database().connect();
    expect(await db.value('SELECT 1')).toBe(1);
    await db.end();
    await db.end();
    await expect(db.value('SELECT 1')).rejects.toThrow(/after calling end/);
  });
});
