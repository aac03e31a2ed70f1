import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/lib/db/index.ts';
import { inTransaction, type Database } from '../../src/lib/db/database.ts';
import { tempDir } from '../helpers/app.ts';
import { usePostgresDatabase } from '../helpers/postgres.ts';

/**
 * The `Database` seam's promises, on both engines: each transaction gets the whole database to
 * itself (one connection shared by async code on SQLite, a pool on PostgreSQL), and a
 * transaction body that reaches for the outer handle is caught.
 */
const opened: Db[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.end();
});

const TABLE = 'CREATE TABLE t (n INTEGER NOT NULL CHECK (n >= 0), label TEXT UNIQUE)';

function freshSqlite(): Db {
  const db = openDatabase(path.join(tempDir(), 'seam.db'));
  opened.push(db);
  db.exec(TABLE);
  return db;
}

interface Engine {
  name: string;
  /** Called in the describe block; hands back a function giving each test an empty table t. */
  use(): () => Promise<Database>;
  /** SQLite: one connection, so statements from outside wait for an open transaction. */
  oneConnection: boolean;
  checkViolation: RegExp;
}

const engines: Engine[] = [
  { name: 'SQLite', use: () => async () => freshSqlite(), oneConnection: true, checkViolation: /CHECK constraint/ },
  {
    name: 'PostgreSQL',
    use: () => {
      const database = usePostgresDatabase();
      return async () => {
        const { db } = database();
        await db.run('DROP TABLE IF EXISTS t');
        await db.run(TABLE);
        return db;
      };
    },
    oneConnection: false,
    checkViolation: /violates check constraint/,
  },
];

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe.each(engines)('the Database seam on $name', (engine) => {
  const freshDatabase = engine.use();

  it('reads rows, single values and change counts with positional and named parameters', async () => {
    const db = await freshDatabase();
    expect(await db.run('INSERT INTO t (n, label) VALUES (?, ?)', [1, 'a'])).toEqual({ changes: 1 });
    await db.run('INSERT INTO t (n, label) VALUES (@n, @label)', { n: 2, label: 'b' });
    expect(await db.get('SELECT n, label FROM t WHERE label = ?', ['b'])).toEqual({ n: 2, label: 'b' });
    expect(await db.get('SELECT n FROM t WHERE label = ?', ['none'])).toBeUndefined();
    expect(await db.all('SELECT label FROM t ORDER BY n')).toEqual([{ label: 'a' }, { label: 'b' }]);
    expect(await db.value('SELECT SUM(n) FROM t')).toBe(3);
    expect(await db.value('SELECT n FROM t WHERE label = ?', ['none'])).toBeUndefined();
    expect(await db.run('UPDATE t SET n = n + 1')).toEqual({ changes: 2 });
    // A value read after a row read of the same text is still plucked (the statement cache resets it).
    expect(await db.get('SELECT n FROM t WHERE label = ?', ['a'])).toEqual({ n: 2 });
    expect(await db.value('SELECT n FROM t WHERE label = ?', ['a'])).toBe(2);
    expect(await db.get('SELECT n FROM t WHERE label = ?', ['a'])).toEqual({ n: 2 });
  });

  it('commits a transaction and hands back its result', async () => {
    const db = await freshDatabase();
    const result = await inTransaction(db, async (tx) => {
      await tx.run('INSERT INTO t (n, label) VALUES (1, ?)', ['x']);
      return tx.value<number>('SELECT COUNT(*) FROM t');
    });
    expect(result).toBe(1);
    expect(await db.value('SELECT COUNT(*) FROM t')).toBe(1);
  });

  it('rolls the whole transaction back when its body throws, constraint failures included', async () => {
    const db = await freshDatabase();
    await expect(
      inTransaction(db, async (tx) => {
        await tx.run('INSERT INTO t (n, label) VALUES (1, ?)', ['x']);
        await tx.run('INSERT INTO t (n, label) VALUES (-1, ?)', ['y']);
      }),
    ).rejects.toThrow(engine.checkViolation);
    expect(await db.value('SELECT COUNT(*) FROM t')).toBe(0);
    // The connection is usable again afterwards.
    await inTransaction(db, (tx) => tx.run('INSERT INTO t (n) VALUES (5)'));
    expect(await db.value('SELECT n FROM t')).toBe(5);
  });

  if (engine.oneConnection) {
    it('keeps statements from other code out of an open transaction until it ends', async () => {
      const db = await freshDatabase();
      let releaseBody!: () => void;
      const bodyMayFinish = new Promise<void>((resolve) => (releaseBody = resolve));
      const seen: string[] = [];
      const transaction = inTransaction(db, async (tx) => {
        await tx.run('INSERT INTO t (n, label) VALUES (1, ?)', ['inside']);
        seen.push('inserted');
        await bodyMayFinish;
        throw new Error('rolled back on purpose');
      });
      await tick();
      // Another request's write and read arrive while the transaction is open.
      const outsideWrite = db.run('INSERT INTO t (n, label) VALUES (2, ?)', ['outside']).then(() => seen.push('outside write'));
      const outsideRead = db.all('SELECT label FROM t ORDER BY label').then((rows) => {
        seen.push('outside read');
        return rows;
      });
      await tick();
      expect(seen).toEqual(['inserted']);
      releaseBody();
      await expect(transaction).rejects.toThrow('rolled back on purpose');
      await Promise.all([outsideWrite, outsideRead]);
      // The outside write was not swallowed by the rollback, and the read never saw 'inside'.
      expect(await outsideRead).toEqual([{ label: 'outside' }]);
      expect(await db.all('SELECT label FROM t')).toEqual([{ label: 'outside' }]);
    });
  } else {
    it('runs statements from other code beside an open transaction: they neither see its writes nor go down with it', async () => {
      const db = await freshDatabase();
      let releaseBody!: () => void;
      const bodyMayFinish = new Promise<void>((resolve) => (releaseBody = resolve));
      let inserted!: () => void;
      const insertDone = new Promise<void>((resolve) => (inserted = resolve));
      const transaction = inTransaction(db, async (tx) => {
        await tx.run('INSERT INTO t (n, label) VALUES (1, ?)', ['inside']);
        inserted();
        await bodyMayFinish;
        throw new Error('rolled back on purpose');
      });
      await insertDone;
      // Another request's write and read run at once, on other connections of the pool.
      expect(await db.run('INSERT INTO t (n, label) VALUES (2, ?)', ['outside'])).toEqual({ changes: 1 });
      expect(await db.all('SELECT label FROM t ORDER BY label')).toEqual([{ label: 'outside' }]);
      releaseBody();
      await expect(transaction).rejects.toThrow('rolled back on purpose');
      expect(await db.all('SELECT label FROM t')).toEqual([{ label: 'outside' }]);
    });
  }

  it('runs two transactions one after the other, never interleaved', async () => {
    const db = await freshDatabase();
    await db.run('INSERT INTO t (n, label) VALUES (0, ?)', ['counter']);
    const bump = () =>
      inTransaction(db, async (tx) => {
        const n = (await tx.value<number>('SELECT n FROM t WHERE label = ?', ['counter']))!;
        await tick();
        await tx.run('UPDATE t SET n = ? WHERE label = ?', [n + 1, 'counter']);
      });
    await Promise.all(Array.from({ length: 20 }, bump));
    // A lost update (two bodies reading the same n) would leave less than 20.
    expect(await db.value('SELECT n FROM t WHERE label = ?', ['counter'])).toBe(20);
  });

  it('lets work a transaction started without awaiting it use the outer handle once the transaction has ended', async () => {
    const db = await freshDatabase();
    let background: Promise<unknown> | null = null;
    await inTransaction(db, async (tx) => {
      await tx.run('INSERT INTO t (n, label) VALUES (1, ?)', ['row']);
      // An alert or a wake-up started from inside the body: it inherits the body's async context.
      background = db.value('SELECT COUNT(*) FROM t');
      await tick();
    });
    // It sees the committed row: it waited for the end instead of being refused.
    expect(await background!).toBe(1);
  });

  it('refuses the outer handle inside a transaction instead of waiting for itself', async () => {
    const db = await freshDatabase();
    await expect(
      inTransaction(db, async (tx) => {
        await tx.run('INSERT INTO t (n) VALUES (1)');
        await db.run('INSERT INTO t (n) VALUES (2)');
      }),
    ).rejects.toThrow(/outer database handle/);
    await expect(inTransaction(db, () => inTransaction(db, async () => 1))).rejects.toThrow(/outer database handle/);
    expect(await db.value('SELECT COUNT(*) FROM t')).toBe(0);
  });

  it('makes a nested transaction a savepoint: its failure undoes only its own writes', async () => {
    const db = await freshDatabase();
    await inTransaction(db, async (tx) => {
      await tx.run('INSERT INTO t (n, label) VALUES (1, ?)', ['kept']);
      await expect(
        inTransaction(tx, async (inner) => {
          await inner.run('INSERT INTO t (n, label) VALUES (2, ?)', ['undone']);
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      await inTransaction(tx, (inner) => inner.run('INSERT INTO t (n, label) VALUES (3, ?)', ['nested']));
    });
    expect(await db.all('SELECT label FROM t ORDER BY n')).toEqual([{ label: 'kept' }, { label: 'nested' }]);
  });

  it('refuses a transaction handle used after its commit', async () => {
    const db = await freshDatabase();
    let leaked: Database | null = null;
    await inTransaction(db, async (tx) => {
      leaked = tx;
    });
    await expect(leaked!.run('INSERT INTO t (n) VALUES (1)')).rejects.toThrow(/transaction has ended/);
    expect(await db.value('SELECT COUNT(*) FROM t')).toBe(0);
  });
});
