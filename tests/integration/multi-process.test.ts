import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { FAST_MINIMAX } from '../../sandbox/minimax/test-support.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { closeContext, createContext, type AppContext } from '../../src/lib/context.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { s3EnvOf, tempDir, testsUsePostgres, testsUseS3 } from '../helpers/app.ts';
import { startS3Server } from '../helpers/s3-server.ts';
import { createBlobStore, readBlobBytes } from '../../src/lib/blobs/index.ts';
import { createTestDatabase, type TestPostgres } from '../helpers/postgres.ts';
import { productionEnv, startServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { createSignedInUser, type SignedInUser } from '../helpers/users.ts';
import { apiFetch } from '../helpers/http.ts';
import { freePort } from '../helpers/ports.ts';
import { FAST_QUEUE_ENV, balanceOf, expectLedgerConsistent, imageForm, ledgerOf, photo, waitForStatus, waitUntil, type StatusBody } from '../helpers/generation.ts';

/**
 * Beem scaled out (issue 19): two web and two worker processes (BEEM_ROLE) of the built server
 * on one PostgreSQL database and one file store, 50 generations asked for through both web
 * processes, and one worker killed with SIGKILL while it downloads a video. Every generation
 * completes once and is charged once, its video is stored, either web process answers the same
 * status, and a per-minute limit holds across both web processes (N in total, not 2N).
 * PostgreSQL only: on SQLite one process does everything (BEEM_ROLE is refused there).
 */

/**
 * Where the processes keep files: one bucket under BEEM_TEST_STORAGE=s3 (as `npm run
 * test:postgres` runs it), else one folder. `env` points every process at the store, `read`
 * gets a stored file back by the key the database records.
 */
interface SharedStorage {
  env: Record<string, string>;
  read(key: string): Promise<Buffer | null>;
  close(): Promise<void>;
}

function localStorage(): SharedStorage {
  const dir = tempDir('beem-multi-storage-');
  return {
    env: { STORAGE: 'local', STORAGE_DIR: dir },
    read: async (key) => {
      try {
        return await fs.promises.readFile(path.join(dir, key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    close: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

async function bucketStorage(): Promise<SharedStorage> {
  const s3 = await startS3Server('beem-multi');
  // Each process keeps its ffmpeg copies in a STORAGE_DIR of its own machine; one folder here.
  const scratch = tempDir('beem-multi-scratch-');
  const env = { ...s3EnvOf(s3), STORAGE_DIR: scratch };
  const store = createBlobStore(loadConfig(env).config, loadConfig(env).secrets);
  return {
    env,
    read: async (key) => ((await store.exists(key)) ? readBlobBytes(store, key, 64 * 1024 * 1024) : null),
    close: async () => {
      store.close();
      await s3.stop();
      fs.rmSync(scratch, { recursive: true, force: true });
    },
  };
}


const GENERATIONS = 50;
const USERS = 10;
const GENERATE_PER_MINUTE = 10;

describe.skipIf(!testsUsePostgres())('two web and two worker processes on one PostgreSQL database', () => {
  let sandbox: Sandbox;
  let minimax: MinimaxEmulator;
  let pg: TestPostgres;
  let storage: SharedStorage;
  let publicUrl: string;
  let webs: ServerProcess[] = [];
  let workers: ServerProcess[] = [];
  /** The test's own view of the database (users, sessions, assertions); it runs no background task. */
  let ctx: AppContext;

  beforeAll(async () => {
    // No MiniMax rate limit: 50 submissions at once are the point here, not the backoff.
    sandbox = await startSandbox({ minimax: { ...FAST_MINIMAX, rpmLimit: null, render: { ...FAST_MINIMAX.render, ffmpeg: null } } });
    minimax = sandbox.emulator<MinimaxEmulator>('minimax');
    pg = await createTestDatabase();
    storage = testsUseS3() ? await bucketStorage() : localStorage();
    // Both web processes stand behind one public address, as behind nginx: the first one's.
    const firstWebPort = await freePort();
    publicUrl = `http://127.0.0.1:${firstWebPort}`;
    sandbox.setAppUrl(publicUrl);
    const env: Record<string, string> = {
      ...FAST_QUEUE_ENV,
      ...storage.env,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      PUBLIC_BASE_URL: publicUrl,
      DATABASE_URL: pg.url,
      SANDBOX_URL: sandbox.url,
      LOG_LEVEL: 'info',
      QUEUE_CONCURRENCY: '4',
      QUEUE_MAX_IN_FLIGHT: String(GENERATIONS),
      RATE_LIMIT_GENERATE_PER_MIN: String(GENERATE_PER_MINUTE),
    };
    // All four start at once: migrations and the shared counters' table must not race.
    [webs, workers] = await Promise.all([
      Promise.all([
        startServerProcess({ ...env, BEEM_ROLE: 'web', PORT: String(firstWebPort) }),
        startServerProcess({ ...env, BEEM_ROLE: 'web' }),
      ]),
      Promise.all([startServerProcess({ ...env, BEEM_ROLE: 'worker' }), startServerProcess({ ...env, BEEM_ROLE: 'worker' })]),
    ]);
    ctx = await createContext(loadConfig(env), { log: createLogger('silent') });
  });

  afterAll(async () => {
    await Promise.all([...webs, ...workers].map((p) => p.stop()));
    if (ctx) await closeContext(ctx);
    await sandbox?.close();
    await pg?.drop();
    await storage?.close();
  });

  /** A request as a browser on the public site sends it, to one web process. */
  const post = (base: string, route: string, cookie: string, init: { json?: unknown; body?: FormData }) =>
    apiFetch(base, route, { cookie, ...init, sameOrigin: false, headers: { origin: publicUrl } });

  it('serves only health and metrics from a worker process', async () => {
    for (const worker of workers) {
      expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${worker.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${worker.url}/app`)).status).toBe(404);
      expect((await fetch(`${worker.url}/api/status?generationId=x`)).status).toBe(404);
    }
    for (const web of webs) expect((await fetch(`${web.url}/healthz`)).status).toBe(200);
  });

  it('completes and charges every generation once with a worker killed while downloading', async () => {
    const users: SignedInUser[] = [];
    for (let i = 0; i < USERS; i += 1) users.push(await createSignedInUser(ctx, { balance: GENERATIONS / USERS }));
    for (const [i, { cookie }] of users.entries()) {
      expect((await post(webs[i % 2]!.url, '/api/upload-image', cookie, { body: imageForm(await photo()) })).status).toBe(200);
    }
    // The first video to be downloaded trickles in, so a worker is caught in the middle of it.
    minimax.injectFault({ kind: 'slow_download', bytesPerSecond: 2048 });

    const created: Array<{ id: string; user: SignedInUser }> = [];
    await Promise.all(
      users.map(async (user, u) => {
        for (let k = 0; k < GENERATIONS / USERS; k += 1) {
          const web = webs[(u + k) % 2]!;
          const res = await post(web.url, '/api/generate', user.cookie, {
            json: { prompt: `Кружка на столе, кадр ${u}-${k}, камера медленно наезжает`, duration: 6, mode: 'prompt' },
          });
          expect(res.status).toBe(200);
          created.push({ id: ((await res.json()) as { generationId: string }).generationId, user });
        }
      }),
    );
    expect(created).toHaveLength(GENERATIONS);

    // Every lease holder seen is a worker process, never a web one.
    const holders = new Set<string>();
    const noteHolders = async () => {
      for (const { locked_by } of await ctx.db.all<{ locked_by: string }>('SELECT DISTINCT locked_by FROM generations WHERE locked_by IS NOT NULL')) holders.add(locked_by);
    };
    const caught: { victim: { id: string; holder: string } | null } = { victim: null };
    await waitUntil(
      async () => {
        await noteHolders();
        if ((minimax.state().requestCounts.download ?? 0) === 0) return false;
        // A download step held for a while is the trickling one (the others take milliseconds);
        // should a fast one be caught instead, the worker is still killed holding a download.
        const now = Date.now();
        const row = await ctx.db.get<{ id: string; locked_by: string }>(
          `SELECT id, locked_by FROM generations
            WHERE step = 'download' AND status = 'processing' AND locked_by IS NOT NULL AND locked_until > ? AND updatedAt <= ?
            ORDER BY updatedAt LIMIT 1`,
          [now, now - 300],
        );
        caught.victim = row ? { id: row.id, holder: row.locked_by } : null;
        return row !== undefined;
      },
      30_000,
      'a worker downloading a video',
    );
    const { id: victimId, holder } = caught.victim!;
    const killed = workers.find((w) => holder.split(':')[1] === String(w.child.pid));
    expect(killed, `lease holder ${holder} is one of the worker processes`).toBeDefined();
    await killed!.stop(); // SIGKILL

    const finals = await Promise.all(
      created.map(async ({ id, user }, i) => {
        const status = await waitForStatus(webs[i % 2]!.url, user.cookie, id, ['success', 'failed'], 60_000);
        await noteHolders();
        return status;
      }),
    );
    expect(finals.map((s) => [s.status, s.charged, s.refunded])).toEqual(created.map(() => ['success', true, false]));
    expect(finals.find((s) => s.id === victimId)).toBeDefined();

    const workerPids = new Set(workers.map((w) => String(w.child.pid)));
    for (const h of holders) expect(workerPids.has(h.split(':')[1]!), `lease holder ${h}`).toBe(true);

    // Charged once: one hold per generation, no refund, every balance spent exactly.
    for (const { id, user } of created) {
      expect((await ledgerOf(ctx, user.user.id)).filter((l) => l.reference.endsWith(id)).map((l) => [l.kind, l.delta])).toEqual([['hold', -1]]);
    }
    for (const { user } of users) expect(await balanceOf(ctx, user.id)).toBe(0);
    await expectLedgerConsistent(ctx);
    expect(await ctx.db.value('SELECT COUNT(*) FROM generations')).toBe(GENERATIONS);
    // One MiniMax task per generation; a submission the crash interrupted (on record) may have
    // made one more, or not reached MiniMax at all.
    expect(await ctx.db.value('SELECT COUNT(DISTINCT minimax_job_id) FROM generations')).toBe(GENERATIONS);
    const resubmits = (await ctx.db.value<number>(`SELECT COUNT(*) FROM generation_events WHERE kind = 'resubmit'`)) ?? 0;
    expect(minimax.tasks().length).toBeGreaterThanOrEqual(GENERATIONS);
    expect(minimax.tasks().length).toBeLessThanOrEqual(GENERATIONS + resubmits);

    // Stored: every video is an MP4 in the shared store.
    for (const { id } of created) {
      const key = await ctx.db.value<string>('SELECT video_path FROM generations WHERE id = ?', [id]);
      const bytes = await storage.read(key!);
      expect(bytes?.subarray(4, 8).toString('latin1'), `video of ${id}`).toBe('ftyp');
    }

    // Either web process answers the same.
    for (const { id, user } of created) {
      const [a, b] = await Promise.all(
        webs.map(async (web) => (await (await apiFetch(web.url, `/api/status?generationId=${id}`, { cookie: user.cookie })).json()) as StatusBody),
      );
      expect(b).toEqual(a);
    }
  }, 90_000);

  it('holds a per-minute limit across both web processes: N in total, not N each', async () => {
    const { cookie } = await createSignedInUser(ctx, { balance: 0 });
    const statuses: number[] = [];
    for (let i = 0; i < 2 * GENERATE_PER_MINUTE; i += 1) {
      const res = await post(webs[i % 2]!.url, '/api/generate', cookie, { json: { prompt: 'Часы на руке, крупный план', duration: 6, mode: 'prompt' } });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s !== 429)).toHaveLength(GENERATE_PER_MINUTE);
    expect(statuses.slice(GENERATE_PER_MINUTE)).toEqual(Array(GENERATE_PER_MINUTE).fill(429));
  });
});

describe('BEEM_ROLE on a SQLite file', () => {
  it('stops the start with a message naming the fix, before touching the database', async () => {
    const dir = tempDir();
    try {
      const env = { PATH: process.env.PATH ?? '', ...productionEnv(dir), BEEM_ROLE: 'worker' };
      const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, ['dist/server/main.mjs'], { env, timeout: 20_000 }, (_err, _stdout, err) => resolve({ code: child.exitCode, stderr: err }));
      });
      expect(code).toBe(78);
      expect(stderr).toContain('BEEM_ROLE: worker needs PostgreSQL (DATABASE_URL=postgres://…); on a SQLite file one process does everything: unset BEEM_ROLE');
      expect(fs.existsSync(path.join(dir, 'beem.db'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
