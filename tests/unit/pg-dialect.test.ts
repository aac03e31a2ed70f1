import { describe, expect, it } from 'vitest';
import { bindValues, toPostgres } from '../../src/lib/db/pg-dialect.ts';

/**
 * The SQL the services write, read as PostgreSQL. The statements are copied from the services
 * (src/lib/generation/queue.ts, billing/ledger.ts, billing/subscriptions.ts, admin/*.ts).
 */
describe('toPostgres', () => {
  it.each([
    {
      name: 'the queue claim: named parameters (one used three times), a subquery, an INDEXED BY hint, RETURNING',
      sql: `UPDATE generations SET locked_until = @leaseUntil, locked_by = @workerId, attempt = attempt + 1, updatedAt = @now
       WHERE id = (SELECT id FROM generations INDEXED BY idx_generations_live
  WHERE status IN ('queued', 'processing') AND next_attempt_at <= @now
    AND (locked_until IS NULL OR locked_until < @now) AND step = @step
  ORDER BY next_attempt_at, createdAt LIMIT 1) RETURNING *`,
      text: `UPDATE generations SET locked_until = $1, locked_by = $2, attempt = attempt + 1, "updatedAt" = $3
       WHERE id = (SELECT id FROM generations
  WHERE status IN ('queued', 'processing') AND next_attempt_at <= $3
    AND (locked_until IS NULL OR locked_until < $3) AND step = $4
  ORDER BY next_attempt_at, "createdAt" LIMIT 1) RETURNING *`,
      names: ['leaseUntil', 'workerId', 'now', 'step'],
    },
    {
      name: 'the ledger insert: positional parameters, mixed-case and snake_case columns',
      sql: `INSERT INTO credit_ledger (userId, delta, kind, reference, balance_after, note, createdAt)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      text: `INSERT INTO credit_ledger ("userId", delta, kind, reference, balance_after, note, "createdAt")
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      names: null,
    },
    {
      name: 'the admin user search: a backslash ESCAPE literal, a function call, a named parameter used twice',
      sql: `SELECT COUNT(*) FROM users WHERE (unicode_lower(email) LIKE @q ESCAPE '\\' OR unicode_lower(name) LIKE @q ESCAPE '\\' OR id = @exact) AND disabled = @disabled`,
      text: `SELECT COUNT(*) FROM users WHERE (unicode_lower(email) LIKE $1 ESCAPE '\\' OR unicode_lower(name) LIKE $1 ESCAPE '\\' OR id = $2) AND disabled = $3`,
      names: ['q', 'exact', 'disabled'],
    },
    {
      name: 'the admin payment list: qualified mixed-case columns',
      sql: `SELECT p.id FROM payments p JOIN users u ON u.id = p.userId WHERE (lower(u.email) LIKE @q ESCAPE '\\' OR p.externalPaymentId = @exact)
       ORDER BY p.createdAt DESC LIMIT @limit OFFSET @offset`,
      text: `SELECT p.id FROM payments p JOIN users u ON u.id = p."userId" WHERE (lower(u.email) LIKE $1 ESCAPE '\\' OR p."externalPaymentId" = $2)
       ORDER BY p."createdAt" DESC LIMIT $3 OFFSET $4`,
      names: ['q', 'exact', 'limit', 'offset'],
    },
    {
      name: 'an upsert: excluded.column, mixed-case aliases of the conflict target',
      sql: `INSERT INTO admin_subscriptions (userId, plan, isPaid, expiresAt, provider, updatedAt)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (userId) DO UPDATE SET plan = excluded.plan, isPaid = excluded.isPaid`,
      text: `INSERT INTO admin_subscriptions ("userId", plan, "isPaid", "expiresAt", provider, "updatedAt")
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT ("userId") DO UPDATE SET plan = excluded.plan, "isPaid" = excluded."isPaid"`,
      names: null,
    },
    {
      name: 'the dashboard totals: mixed-case result aliases come back under the same key',
      sql: `SELECT COALESCE(SUM(amount_kopecks), 0) AS total,
              COUNT(CASE WHEN COALESCE(appliedAt, updatedAt) >= @day THEN 1 END) AS nToday FROM payments`,
      text: `SELECT COALESCE(SUM(amount_kopecks), 0) AS total,
              COUNT(CASE WHEN COALESCE("appliedAt", "updatedAt") >= $1 THEN 1 END) AS "nToday" FROM payments`,
      names: ['day'],
    },
    {
      name: 'text that only looks like parameters or identifiers: literals, quoted names, comments, casts',
      sql: `SELECT 'is it? @home userId' AS "Odd?Name", x::bigint -- why? @not userId
  /* a ? and @c in userId */ FROM t WHERE a = ? AND b = 'it''s ?'`,
      text: `SELECT 'is it? @home userId' AS "Odd?Name", x::bigint -- why? @not userId
  /* a ? and @c in userId */ FROM t WHERE a = $1 AND b = 'it''s ?'`,
      names: null,
    },
    {
      name: 'a dollar-quoted function body is copied untouched',
      sql: `CREATE FUNCTION f(v text) RETURNS text LANGUAGE sql AS $body$ SELECT lower(v) || '?' || userId $body$`,
      text: `CREATE FUNCTION f(v text) RETURNS text LANGUAGE sql AS $body$ SELECT lower(v) || '?' || userId $body$`,
      names: null,
    },
    {
      name: 'keywords and upper-case or lower-case names stay as written; an INDEXED BY in any case goes',
      sql: 'select ID, name from Generations indexed  by idx_generations_late where step = ?',
      text: 'select ID, name from "Generations" where step = $1',
      names: null,
    },
  ])('$name', ({ sql, text, names }) => {
    const translated = toPostgres(sql);
    expect({ text: translated.text, names: translated.names }).toEqual({ text, names });
  });

  it('names each text for its prepared statement: the same text the same name, another text another', () => {
    const first = toPostgres('SELECT id FROM users WHERE id = ?').name;
    expect(toPostgres('SELECT id FROM users WHERE id = ?').name).toBe(first);
    expect(toPostgres('SELECT id FROM users WHERE id = ? ').name).not.toBe(first);
    expect(toPostgres('SELECT id FROM users WHERE email = ?').name).not.toBe(first);
    // PostgreSQL truncates identifiers at 63 bytes; a longer name would collide after truncation.
    expect(first.length).toBeLessThanOrEqual(63);
  });

  it('keeps a column named like the hint (indexed_by_x) and a word that merely starts with INDEXED', () => {
    expect(toPostgres('SELECT indexed_by_x, INDEXED FROM t').text).toBe('SELECT indexed_by_x, INDEXED FROM t');
  });

  it('refuses a statement that mixes ? and @name, and unterminated literals or comments', () => {
    expect(() => toPostgres('SELECT ? FROM t WHERE a = @a')).toThrow(/mixes \? and @name/);
    expect(() => toPostgres("SELECT 'open FROM t")).toThrow(/unterminated '/);
    expect(() => toPostgres('SELECT "open FROM t')).toThrow(/unterminated "/);
    expect(() => toPostgres('SELECT 1 /* open')).toThrow(/unterminated \/\*/);
  });

  it('hands back the same translation for the same text', () => {
    const sql = 'SELECT id FROM users WHERE createdAt > ?';
    expect(toPostgres(sql)).toBe(toPostgres(sql));
  });
});

describe('bindValues', () => {
  it('orders named values by their $n, once per name, and passes positional values through', () => {
    const statement = toPostgres('SELECT 1 FROM t WHERE a = @a AND b = @b AND c = @a');
    expect(bindValues(statement, { b: 2, a: 1, unused: 3 })).toEqual([1, 2]);
    expect(bindValues(toPostgres('SELECT ? + ?'), [1, 2])).toEqual([1, 2]);
    expect(bindValues(toPostgres('SELECT 1'), undefined)).toEqual([]);
    // A filter with no condition chosen passes its (empty) parameter object.
    expect(bindValues(toPostgres('SELECT COUNT(*) FROM payments'), {})).toEqual([]);
  });

  it('refuses a missing name, and parameters of the other style', () => {
    const named = toPostgres('SELECT 1 FROM t WHERE a = @a AND b = @b');
    expect(() => bindValues(named, { a: 1 })).toThrow('Missing named parameter "b"');
    expect(() => bindValues(named, [1, 2])).toThrow(/needs named parameters/);
    expect(() => bindValues(toPostgres('SELECT ?'), { a: 1 })).toThrow(/named parameters given/);
  });
});
