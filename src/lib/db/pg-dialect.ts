import { createHash } from 'node:crypto';
import type { Params } from './database.ts';

/**
 * Reads the SQL the services write (the subset described in database.ts) as PostgreSQL:
 * - `?` (in order) and `@name` (from an object) become `$1…`; a name used twice is one `$n`;
 * - mixed-case identifiers (`userId`, `g.createdAt`, an alias `nToday`) are double-quoted:
 *   PostgreSQL folds unquoted names to lower case, and the schema creates them quoted, so
 *   rows come back with the same keys as on SQLite;
 * - SQLite's `INDEXED BY <index>` planner hint is dropped.
 * String literals, quoted identifiers, comments and dollar-quoted bodies are copied as they
 * are, so a `?` or `@` inside them is text, and `::type` casts pass through.
 */
export interface PgStatement {
  text: string;
  /** Named parameters in `$n` order; null when the statement uses `?` (or none). */
  names: readonly string[] | null;
  /** A name derived from the text, for the prepared statement on each connection. */
  name: string;
}

/** Distinct SQL texts kept translated; beyond this many the oldest goes (search SQL is built from a few pieces). */
export const TRANSLATION_CACHE_SIZE = 1000;

const translations = new Map<string, PgStatement>();

/** The PostgreSQL form of `sql`, translated once per text. */
export function toPostgres(sql: string): PgStatement {
  const cached = translations.get(sql);
  if (cached) return cached;
  const statement = translate(sql);
  if (translations.size >= TRANSLATION_CACHE_SIZE) translations.delete(translations.keys().next().value!);
  translations.set(sql, statement);
  return statement;
}

/** The values for `$1…` in order; refuses parameters of the other style or a missing name, as better-sqlite3 does. */
export function bindValues(statement: PgStatement, params: Params | undefined): unknown[] {
  if (statement.names === null) {
    // An empty object binds nothing: filters build their parameters beside their conditions,
    // and with no condition chosen the statement has none (better-sqlite3 accepts this too).
    if (params === undefined || (!Array.isArray(params) && Object.keys(params).length === 0)) return [];
    if (!Array.isArray(params)) throw new TypeError('named parameters given to a statement that uses ?');
    return params as unknown[];
  }
  if (params === undefined || Array.isArray(params)) {
    throw new TypeError(`the statement needs named parameters (@${statement.names.join(', @')})`);
  }
  const named = params as Readonly<Record<string, unknown>>;
  return statement.names.map((name) => {
    if (!Object.hasOwn(named, name)) throw new RangeError(`Missing named parameter "${name}"`);
    return named[name];
  });
}

const WORD_START = /[A-Za-z_]/;
const WORD = /[A-Za-z0-9_$]/;
const SPACE = /\s/;

function isMixedCase(word: string): boolean {
  return word !== word.toLowerCase() && word !== word.toUpperCase();
}

/** Index just past a quoted run that starts at `start` with `quote`; a doubled quote is part of it. */
function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  throw new SyntaxError(`unterminated ${quote} in SQL: ${sql.slice(start, start + 40)}`);
}

function skipSpace(sql: string, i: number): number {
  while (i < sql.length && SPACE.test(sql[i]!)) i++;
  return i;
}

function readWord(sql: string, i: number): string {
  let end = i;
  while (end < sql.length && WORD.test(sql[end]!)) end++;
  return sql.slice(i, end);
}

/** `INDEXED BY name` starting at `i` (already known to read INDEXED): the index after it, or -1. */
function indexedByEnd(sql: string, i: number): number {
  let j = skipSpace(sql, i + 'INDEXED'.length);
  if (readWord(sql, j).toUpperCase() !== 'BY') return -1;
  j = skipSpace(sql, j + 2);
  const name = readWord(sql, j);
  return name && WORD_START.test(name[0]!) ? j + name.length : -1;
}

function translate(sql: string): PgStatement {
  let out = '';
  let positional = 0;
  const names: string[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    let end = i + 1;
    if (c === "'" || c === '"') {
      end = skipQuoted(sql, i, c);
      out += sql.slice(i, end);
    } else if (c === '-' && next === '-') {
      const newline = sql.indexOf('\n', i);
      end = newline === -1 ? sql.length : newline;
      out += sql.slice(i, end);
    } else if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      if (close === -1) throw new SyntaxError('unterminated /* comment in SQL');
      end = close + 2;
      out += sql.slice(i, end);
    } else if (c === '$' && /[A-Za-z_$]/.test(next ?? '')) {
      // A dollar-quoted body ($$…$$ or $tag$…$tag$): copied untouched.
      const tag = sql.slice(i, sql.indexOf('$', i + 1) + 1);
      if (!/^\$[A-Za-z_0-9]*\$$/.test(tag)) throw new SyntaxError(`unexpected $ in SQL: ${sql.slice(i, i + 20)}`);
      const close = sql.indexOf(tag, i + tag.length);
      if (close === -1) throw new SyntaxError(`unterminated ${tag} body in SQL`);
      end = close + tag.length;
      out += sql.slice(i, end);
    } else if (c === '?') {
      out += `$${++positional}`;
    } else if (c === '@' && WORD_START.test(next ?? '')) {
      const name = readWord(sql, i + 1);
      end = i + 1 + name.length;
      let index = names.indexOf(name);
      if (index === -1) index = names.push(name) - 1;
      out += `$${index + 1}`;
    } else if (WORD_START.test(c) && !WORD.test(sql[i - 1] ?? ' ')) {
      const word = readWord(sql, i);
      end = i + word.length;
      const hintEnd = word.toUpperCase() === 'INDEXED' ? indexedByEnd(sql, i) : -1;
      if (hintEnd !== -1) {
        end = hintEnd;
        out = out.trimEnd();
      } else {
        out += isMixedCase(word) ? `"${word}"` : word;
      }
    } else {
      out += c;
    }
    i = end;
  }
  if (positional > 0 && names.length > 0) throw new SyntaxError('a statement mixes ? and @name parameters');
  return { text: out, names: names.length > 0 ? names : null, name: `beem_${createHash('sha256').update(out).digest('hex').slice(0, 24)}` };
}
