import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YookassaEmulator } from '../../sandbox/yookassa/index.ts';
import { cliActor } from '../../src/lib/admin/audit.ts';
import { grantAdminByEmail } from '../../src/lib/admin/users.ts';
import { findLedgerMismatches } from '../../src/lib/billing/ledger.ts';
import { createS3BlobStore } from '../../src/lib/blobs/s3-store.ts';
import type { BlobStore } from '../../src/lib/blobs/index.ts';
import type { Database } from '../../src/lib/db/database.ts';
import { listGenerationViews } from '../../src/lib/generation/views.ts';
import { copyShopToPostgres } from '../../src/lib/move/copy-to-postgres.ts';
import { MoveError } from '../../src/lib/move/move-error.ts';
import { openSqliteSnapshot } from '../../src/lib/move/sqlite-snapshot.ts';
import { s3EnvOf, startApp, tempDir, testsUsePostgres } from '../helpers/app.ts';
import { balanceOf, generate, photo, startPipelineStack, uploadPhoto, waitForStatus, waitUntil } from '../helpers/generation.ts';
import { apiFetch } from '../helpers/http.ts';
import { skipFfmpeg } from '../helpers/media.ts';
import { createTestDatabase, type TestPostgres } from '../helpers/postgres.ts';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '../helpers/s3-server.ts';
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';

const run = promisify(execFile);

/**
 * Moving a shop off one machine as an operator does it: `node dist/server/move.mjs
 * to-postgres|to-s3` as a child process, from a SQLite shop made by the real services
 * (sign-ins, uploads, a delivered and a refunded generation, an export, a preview, a paid
 * payment, an admin grant), into a fresh PostgreSQL database on the test server and a
 * bucket on s3rver. The source is SQLite by definition, so the PostgreSQL pass of the suite
 * (BEEM_TEST_DATABASE=postgres) would run this file unchanged a second time: it runs once.
 */

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function move(args: string[], env: Record<string, string>): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['dist/server/move.mjs', ...args], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

type Row = Record<string, unknown>;
type Tables = Record<string, Row[]>;

/** Rows in one order whatever each engine's collation: by their content. */
function canonical(rows: Row[]): Row[] {
  const key = (row: Row) => JSON.stringify(Object.keys(row).sort().map((k) => [k, row[k]]));
  return rows.map((row) => ({ row, key: key(row) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((r) => r.row);
}

function sqliteTableNames(file: string): string[] {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name`)
      .pluck()
      .all() as string[];
  } finally {
    db.close();
  }
}

/** Every row of every table; `withRowid` tables carry SQLite's implicit rowid as PostgreSQL's schema makes it a column. */
function sqliteTables(file: string, withRowid: readonly string[] = ['uploads', 'payments']): Tables {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return Object.fromEntries(
      sqliteTableNames(file).map((table) => [table, canonical(db.prepare(`SELECT ${withRowid.includes(table) ? 'rowid AS rowid, ' : ''}* FROM "${table}"`).all() as Row[])]),
    );
  } finally {
    db.close();
  }
}

async function postgresTables(db: Database, tables: readonly string[]): Promise<Tables> {
  const out: Tables = {};
  for (const table of tables) out[table] = canonical(await db.all<Row>(`SELECT * FROM "${table}"`));
  return out;
}

function countsOf(tables: Tables): Record<string, number> {
  return Object.fromEntries(Object.entries(tables).map(([table, rows]) => [table, rows.length]));
}

/** A copy of the shop's SQLite file to spoil on purpose, made through SQLite's online backup. */
async function copyOfShop(file: string, name: string): Promise<string> {
  const copy = path.join(tempDir('beem-shop-copy-'), name);
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    await db.backup(copy);
  } finally {
    db.close();
  }
  return copy;
}

async function fetchExport(baseUrl: string, cookie: string, urlPath: string): Promise<Response> {
  for (let i = 0; i < 600; i++) {
    const res = await apiFetch(baseUrl, urlPath, { cookie });
    if (res.status !== 202) return res;
    await res.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${urlPath} was not made`);
}

describe.skipIf(testsUsePostgres())('moving a SQLite shop to PostgreSQL and S3', () => {
  let file: string;
  let storageDir: string;
  let seller: SignedInUser;
  let buyer: SignedInUser;
  let videoId: string;
  let failedId: string;
  let balances: Record<string, number>;
  const databases: TestPostgres[] = [];

  async function freshPostgres(): Promise<TestPostgres> {
    const database = await createTestDatabase();
    databases.push(database);
    return database;
  }

  beforeAll(async () => {
    const dir = tempDir('beem-shop-');
    file = path.join(dir, 'beem.db');
    storageDir = path.join(dir, 'storage');
    // A shop on one machine: its files on the local disk, whatever BEEM_TEST_STORAGE says.
    const stack = await startPipelineStack({ env: { DATABASE_URL: file, STORAGE: 'local', STORAGE_DIR: storageDir } });
    try {
      const { app } = stack;
      seller = await createSignedInUser(app.ctx, { balance: 10 });
      buyer = await createSignedInUser(app.ctx);
      await grantAdminByEmail(app.ctx.db, { email: 'owner@example.ru', reason: 'the first admin', actor: cliActor, now: app.ctx.clock.now() });

      expect((await uploadPhoto(app.url, seller.cookie, await photo(1200, 900))).status).toBe(200);
      const preview = await apiFetch(app.url, '/api/prompt-preview', {
        cookie: seller.cookie,
        json: { mode: 'prompt', prompt: 'Кружка кофе на столе, камера приближается', duration: 6 },
      });
      expect(preview.status).toBe(200);
      const made = await generate(app.url, seller.cookie, { prompt: 'Кружка кофе на столе, камера приближается', duration: 6, mode: 'prompt', format: '3:4' });
      videoId = ((await made.json()) as { generationId: string }).generationId;
      expect((await waitForStatus(app.url, seller.cookie, videoId)).status).toBe('success');
      if (!skipFfmpeg) expect((await fetchExport(app.url, seller.cookie, `/api/video/${videoId}/export/wildberries`)).status).toBe(200);

      stack.minimax.injectFault([{ kind: 'task_fail', code: 1027 }]);
      const refused = await generate(app.url, seller.cookie, { prompt: 'Кроссовки на витрине, панорама влево', duration: 6, mode: 'prompt' });
      failedId = ((await refused.json()) as { generationId: string }).generationId;
      expect(await waitForStatus(app.url, seller.cookie, failedId)).toMatchObject({ status: 'failed', refunded: true });

      const created = await apiFetch(app.url, '/api/payments/yookassa/create', { cookie: buyer.cookie, json: { plan: 'basic' } });
      const payment = (await created.json()) as { paymentId: string; externalPaymentId: string };
      await stack.sandbox.emulator<YookassaEmulator>('yookassa').act({ action: 'pay', paymentId: payment.externalPaymentId });
      await apiFetch(app.url, `/api/payments/yookassa/check?paymentId=${encodeURIComponent(payment.paymentId)}`, { cookie: buyer.cookie });
      await waitUntil(async () => (await app.ctx.db.value('SELECT applied FROM payments WHERE id = ?', [payment.paymentId])) === 1, 10_000, 'the payment credited');
      await app.ctx.notifier.flush();

      balances = { [seller.user.id]: await balanceOf(app.ctx, seller.user.id), [buyer.user.id]: await balanceOf(app.ctx, buyer.user.id) };
    } finally {
      await stack.stop();
    }
  }, 180_000);

  afterAll(async () => {
    for (const database of databases) await database.drop();
  });

  it('was seeded with every kind of row the move must carry', () => {
    const counts = countsOf(sqliteTables(file));
    const seeded = ['users', 'sessions', 'credit_ledger', 'payments', 'uploads', 'generations', 'generation_events', 'prompt_previews', 'admin_audit', 'pending_admins', 'operator_alerts'];
    if (!skipFfmpeg) seeded.push('video_exports');
    for (const table of seeded) expect(counts[table], table).toBeGreaterThan(0);
  });

  describe('to PostgreSQL', () => {
    let target: TestPostgres;
    let env: Record<string, string>;
    let copied: Tables;
    beforeAll(async () => {
      target = await freshPostgres();
      // As an operator runs it: DATABASE_URL already names the new database, the SQLite file is --from.
      env = { DATABASE_URL: target.url };
    });

    it('copies every table into an empty database with ids and rowids kept, and checks the ledger on both sides', async () => {
      const result = await move(['to-postgres', '--from', file], env);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('Committed.');
      expect(result.stdout).toContain('every balance equals the sum of its ledger');
      const password = new URL(target.url).password;
      expect(`${result.stdout}${result.stderr}`).not.toContain(password);

      const source = sqliteTables(file);
      copied = await postgresTables(target.db, Object.keys(source));
      expect(copied).toEqual(source);
      expect(await findLedgerMismatches(target.db)).toEqual([]);
    });

    it('refuses a second run into the same database and changes nothing', async () => {
      const result = await move(['to-postgres', '--from', file], env);
      expect(result.code).toBe(65);
      expect(result.stderr).toContain('already holds a shop');
      expect(result.stderr).toContain('--into-non-empty');
      expect(result.stdout).not.toContain('Committed.');
      expect(await postgresTables(target.db, Object.keys(copied))).toEqual(copied);
    });

    it('with --into-non-empty, runs again as a no-op that passes the checks', async () => {
      const result = await move(['to-postgres', '--from', file, '--into-non-empty'], env);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/users\s+2 rows: 0 copied, 2 already there \(kept\)/);
      expect(result.stdout).toContain('Committed.');
      expect(await postgresTables(target.db, Object.keys(copied))).toEqual(copied);
    });

    it('is the shop Beem then runs on: sessions, balances, generations and videos as before; new rows get new ids', async () => {
      const app = await startApp({ env: { DATABASE_URL: target.url, STORAGE: 'local', STORAGE_DIR: storageDir } });
      try {
        for (const who of [seller, buyer]) {
          const me = await apiFetch(app.url, '/api/me', { cookie: who.cookie });
          expect(me.status).toBe(200);
          expect(((await me.json()) as { balance: number }).balance).toBe(balances[who.user.id]);
        }
        const status = await waitForStatus(app.url, seller.cookie, videoId);
        expect(status).toMatchObject({ status: 'success', charged: true });
        const video = await apiFetch(app.url, status.videoUrl!, { cookie: seller.cookie });
        expect(video.status).toBe(200);
        const videoPath = (await app.ctx.db.value<string>('SELECT video_path FROM generations WHERE id = ?', [videoId]))!;
        expect(Buffer.from(await video.arrayBuffer()).equals(fs.readFileSync(path.join(storageDir, videoPath)))).toBe(true);
        const page = await listGenerationViews(app.ctx.db, seller.user.id, { cursor: null, limit: 10, locale: 'ru', now: Date.now() });
        expect(page.items.map((item) => [item.id, item.status])).toEqual([
          [failedId, 'failed'],
          [videoId, 'success'],
        ]);

        // The identity sequences continue after the copied ids.
        const highest = async (sql: string) => (await app.ctx.db.value<number>(sql))!;
        const [ledgerId, uploadRowid] = [await highest('SELECT MAX(id) FROM credit_ledger'), await highest('SELECT MAX(rowid) FROM uploads')];
        const newcomer = await createSignedInUser(app.ctx, { balance: 7 });
        expect((await uploadPhoto(app.url, newcomer.cookie)).status).toBe(200);
        expect(await app.ctx.db.value('SELECT MIN(id) FROM credit_ledger WHERE userId = ?', [newcomer.user.id])).toBe(ledgerId + 1);
        expect(await app.ctx.db.value('SELECT rowid FROM uploads WHERE userId = ?', [newcomer.user.id])).toBe(uploadRowid + 1);
      } finally {
        await app.stop();
      }
    });

    it('once the PostgreSQL side has rows of its own, a run with --into-non-empty fails its check and writes nothing', async () => {
      const before = countsOf(await postgresTables(target.db, Object.keys(copied)));
      const result = await move(['to-postgres', '--from', file, '--into-non-empty'], env);
      expect(result.code).toBe(65);
      expect(result.stderr).toContain('rolled back');
      expect(result.stderr).toMatch(/users: 2 rows in the source, 3 in the target/);
      expect(countsOf(await postgresTables(target.db, Object.keys(copied)))).toEqual(before);
    });
  });

  it('with --into-non-empty, refuses a target whose kept rows drifted from the source, naming row and column', async () => {
    const target = await freshPostgres();
    const first = await move(['to-postgres', '--from', file, '--to', target.url], {});
    expect(first.code, first.stderr).toBe(0);
    // An earlier copy made while the video was still being made: same rows, same money, older state.
    await target.db.run(`UPDATE generations SET status = 'processing', step = 'poll' WHERE id = ?`, [videoId]);
    const before = await postgresTables(target.db, sqliteTableNames(file));
    const result = await move(['to-postgres', '--from', file, '--to', target.url, '--into-non-empty'], {});
    expect(result.code).toBe(65);
    expect(result.stderr).toContain(`generations id="${videoId}": status is "processing" in the target, "success" in the source`);
    expect(result.stderr).toContain(`generations id="${videoId}": step is "poll" in the target, "done" in the source`);
    expect(await postgresTables(target.db, sqliteTableNames(file))).toEqual(before);
  });

  it('copies in batches: two rows at a time make the same tables, with the sequences past the copied ids', async () => {
    const target = await freshPostgres();
    const source = openSqliteSnapshot(file);
    try {
      const report = await copyShopToPostgres({ source, target: target.db, intoNonEmpty: false, batchRows: 2 });
      expect(report.tables.find((t) => t.table === 'generation_events')!.rows).toBeGreaterThan(2);
      const highestLedgerId = Math.max(...sqliteTables(file).credit_ledger!.map((row) => row.id as number));
      expect(report.sequences).toContainEqual({ table: 'credit_ledger', column: 'id', next: highestLedgerId + 1 });
    } finally {
      source.close();
    }
    const expected = sqliteTables(file);
    expect(await postgresTables(target.db, Object.keys(expected))).toEqual(expected);
  });

  it('refuses a source whose balance is not the sum of its ledger, before touching the target', async () => {
    const spoiled = await copyOfShop(file, 'spoiled.db');
    const db = new BetterSqlite3(spoiled);
    db.prepare('UPDATE users SET generation_balance = generation_balance + 5 WHERE id = ?').run(seller.user.id);
    db.close();
    const target = await freshPostgres();
    const result = await move(['to-postgres', '--from', spoiled, '--to', target.url], { DATABASE_URL: spoiled });
    expect(result.code).toBe(65);
    expect(result.stderr).toContain('not the sum of its ledger');
    expect(result.stderr).toContain(`user ${seller.user.id}: balance ${balances[seller.user.id]! + 5}, ledger sum ${balances[seller.user.id]}`);
    // Not even migrated: the refusal came before the first statement on PostgreSQL.
    expect(await target.db.value(`SELECT to_regclass('public.users') IS NULL`)).toBe(1);
  });

  it.each([
    {
      spoil: 'a row pointing at a user that does not exist',
      sql: `INSERT INTO sessions (id, userId, token_hash, expiresAt, createdAt) VALUES ('ses_ghost', 'usr_ghost', 'hash-ghost', 1, 1)`,
      said: /sessions row \d+ points at a missing users row/,
    },
    {
      spoil: 'a fraction in a whole-number column',
      sql: `UPDATE generations SET video_bytes = 1234.5 WHERE status = 'success'`,
      said: /generations\.video_bytes: 1 rows hold something other than a whole number/,
    },
  ])('refuses a source with $spoil, before touching the target', async ({ sql, said }) => {
    const spoiled = await copyOfShop(file, 'spoiled.db');
    const db = new BetterSqlite3(spoiled);
    db.pragma('foreign_keys = OFF');
    db.prepare(sql).run();
    db.close();
    const target = await freshPostgres();
    const result = await move(['to-postgres', '--from', spoiled, '--to', target.url], {});
    expect(result.code).toBe(65);
    expect(result.stderr).toContain('Nothing was copied');
    expect(result.stderr).toMatch(said);
    expect(await target.db.value(`SELECT to_regclass('public.users') IS NULL`)).toBe(1);
  });

  it('refuses a SQLite file at an older schema, telling to start Beem on it once', async () => {
    const old = await copyOfShop(file, 'old.db');
    const db = new BetterSqlite3(old);
    db.prepare('DELETE FROM schema_migrations WHERE id = (SELECT MAX(id) FROM schema_migrations)').run();
    db.close();
    const target = await freshPostgres();
    const result = await move(['to-postgres', '--to', target.url], { DATABASE_URL: old });
    expect(result.code).toBe(65);
    expect(result.stderr).toContain('older schema');
    expect(result.stderr).toContain('Start this version of Beem on it once');
    expect(await target.db.value(`SELECT to_regclass('public.users') IS NULL`)).toBe(1);
  });

  it('rolls the copy back when the SQLite file changes while it is copied', async () => {
    const live = await copyOfShop(file, 'live.db');
    const target = await freshPostgres();
    const source = openSqliteSnapshot(live);
    const writer = new BetterSqlite3(live);
    try {
      const copying = copyShopToPostgres({
        source,
        target: target.db,
        intoNonEmpty: false,
        // Beem still running on the file: a session is written after the copy began.
        onTable: (copy) => {
          if (copy.table === 'users') writer.prepare('UPDATE sessions SET ip = ? WHERE userId = ?').run('192.0.2.1', seller.user.id);
        },
      });
      await expect(copying).rejects.toSatisfy((err) => err instanceof MoveError && err.code === 'SOURCE_CHANGED');
    } finally {
      writer.close();
      source.close();
    }
    expect(await target.db.value('SELECT COUNT(*) FROM users')).toBe(0);
  });

  it('says what is missing: no PostgreSQL to copy into, no SQLite file', async () => {
    const noTarget = await move(['to-postgres'], { DATABASE_URL: file });
    expect(noTarget.code).toBe(64);
    expect(noTarget.stderr).toContain('--to postgres://');
    const noFile = await move(['to-postgres', '--from', path.join(tempDir(), 'none.db'), '--to', 'postgres://beem@127.0.0.1:1/beem'], {});
    expect(noFile.code).toBe(66);
    expect(noFile.stderr).toContain('No SQLite database at');
    const notPostgres = await move(['to-postgres', '--from', file, '--to', 'mysql://beem@127.0.0.1/beem'], {});
    expect(notPostgres.code).toBe(64);
  });

  describe('to S3', () => {
    let s3: TestS3Server;
    let store: BlobStore;
    let env: Record<string, string>;
    const temporary: string[] = [];

    /** Every user file the store should hold, as keys (temporary files left out). */
    function userFileKeys(): string[] {
      const keys: string[] = [];
      const walk = (folder: string) => {
        for (const entry of fs.readdirSync(path.join(storageDir, folder), { withFileTypes: true })) {
          const key = `${folder}/${entry.name}`;
          if (entry.isDirectory()) walk(key);
          else if (!entry.name.startsWith('.') && !entry.name.endsWith('.part')) keys.push(key);
        }
      };
      walk('users');
      return keys.sort();
    }

    beforeAll(async () => {
      s3 = await startS3Server();
      env = { DATABASE_URL: file, STORAGE_DIR: storageDir, ...s3EnvOf(s3) };
      store = createS3BlobStore({ ...S3RVER_CREDENTIALS, endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, forcePathStyle: true, scratchDir: tempDir() });
      // What an interrupted write leaves: writeFileAtomic's `<name>.<hex>.part`, the local store's
      // `.<name>.<hex>.part`, and the S3 store's scratch copies for ffmpeg.
      const videos = path.join(storageDir, 'users', seller.user.id, 'videos');
      temporary.push(`users/${seller.user.id}/videos/${videoId}.mp4.1a2b3c4d.part`);
      fs.writeFileSync(path.join(videos, `${videoId}.mp4.1a2b3c4d.part`), 'half a video');
      fs.writeFileSync(path.join(videos, `.${videoId}.mp4.0f0f0f0f0f0f.part`), 'half a video');
      fs.mkdirSync(path.join(storageDir, '.scratch', 'blob-x'), { recursive: true });
      fs.writeFileSync(path.join(storageDir, '.scratch', 'blob-x', 'copy.mp4'), 'a copy for ffmpeg');
    });
    afterAll(async () => {
      store?.close();
      await s3?.stop();
    });

    it('copies every user file byte for byte, including every file the database names, and leaves temporary files out', async () => {
      const result = await move(['to-s3'], env);
      expect(result.code, result.stderr).toBe(0);
      const keys = userFileKeys();
      expect(result.stdout).toContain(`Uploaded ${keys.length} new file(s) and 0 replaced`);
      expect(result.stdout).toContain('2 temporary file(s) skipped');
      for (const key of keys) {
        const { body } = await store.openRead(key);
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk as Buffer);
        expect(Buffer.concat(chunks).equals(fs.readFileSync(path.join(storageDir, key))), key).toBe(true);
      }
      for (const key of temporary) expect(await store.head(key)).toBeNull();

      const db = new BetterSqlite3(file, { readonly: true });
      const named = db
        .prepare(
          `SELECT path FROM uploads UNION SELECT video_path FROM generations UNION SELECT poster_path FROM generations
           UNION SELECT frame_path FROM generations UNION SELECT path FROM video_exports`,
        )
        .pluck()
        .all()
        .filter((p): p is string => typeof p === 'string');
      db.close();
      expect(named.length).toBeGreaterThan(1);
      for (const key of named) expect(keys, key).toContain(key);
    });

    it('uploads nothing on a re-run, and replaces an object an earlier run cut short', async () => {
      const again = await move(['to-s3'], env);
      expect(again.code, again.stderr).toBe(0);
      const keys = userFileKeys();
      expect(again.stdout).toContain(`Uploaded 0 new file(s) and 0 replaced`);
      expect(again.stdout).toContain(`${keys.length} already in the bucket with the same size`);

      const videoKey = keys.find((key) => key.endsWith(`${videoId}.mp4`))!;
      await store.put(videoKey, Readable.from([Buffer.from('the first 64 KB only')]));
      const repaired = await move(['to-s3'], env);
      expect(repaired.code, repaired.stderr).toBe(0);
      expect(repaired.stdout).toContain(`Uploaded 0 new file(s) and 1 replaced`);
      expect((await store.head(videoKey))!.size).toBe(fs.statSync(path.join(storageDir, videoKey)).size);
    });

    it('is the bucket Beem then serves from: the same video by the same path, with the local folder out of the way', async () => {
      // A STORAGE_DIR of its own: nothing can come from the shop's folder.
      const app = await startApp({ env: { ...env, STORAGE_DIR: path.join(tempDir(), 'scratch-only') } });
      try {
        const status = await waitForStatus(app.url, seller.cookie, videoId);
        const video = await apiFetch(app.url, status.videoUrl!, { cookie: seller.cookie });
        expect(video.status).toBe(200);
        const videoPath = (await app.ctx.db.value<string>('SELECT video_path FROM generations WHERE id = ?', [videoId]))!;
        expect(Buffer.from(await video.arrayBuffer()).equals(fs.readFileSync(path.join(storageDir, videoPath)))).toBe(true);
      } finally {
        await app.stop();
      }
    });

    it('refuses when STORAGE is not s3', async () => {
      const result = await move(['to-s3'], { DATABASE_URL: file, STORAGE_DIR: storageDir });
      expect(result.code).toBe(78);
      expect(result.stderr).toContain('STORAGE is not s3');
    });
  });
});
