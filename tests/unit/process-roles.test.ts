import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadConfig, type ProcessRole } from '../../src/lib/config.ts';
import { closeContext, createContext } from '../../src/lib/context.ts';
import { postgresPoolOf } from '../../src/lib/db/postgres.ts';
import { prepareSharedRateLimits, RateLimits } from '../../src/lib/http/rate-limits.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { usePostgresDatabase } from '../helpers/postgres.ts';

/**
 * BEEM_ROLE on PostgreSQL: which background tasks each kind of process runs, and the per-minute
 * limits every web process shares through the database (the multi-process integration test runs
 * the built server in both roles).
 */

const WEB_TASKS = ['status-streams', 'sign-in-discovery'];
const WORKER_TASKS = ['generation-worker', 'video-posters', 'video-exports', 'reconcile-payments', 'sweep-sessions'];
const EVERY_PROCESS = ['alert-chat-check', 'llm-model-check', 'operator-alerts'];

const limits = { generatePerMinute: 3, previewPerMinute: 1, uploadPerMinute: 1, paymentCreatesPerMinute: 1, paymentChecksPerMinute: 1, signInPerMinute: 1 };
const generate = (rl: RateLimits, userId: string) => rl.consume({ method: 'POST', route: '/api/generate', userId, ip: '10.0.0.1' });

describe('process roles on PostgreSQL', () => {
  const database = usePostgresDatabase();

  it.each<[ProcessRole, string[]]>([
    ['all', ['status-streams', ...WORKER_TASKS, 'sign-in-discovery', ...EVERY_PROCESS]],
    ['web', [...WEB_TASKS, ...EVERY_PROCESS]],
    ['worker', [...WORKER_TASKS, ...EVERY_PROCESS]],
  ])('BEEM_ROLE=%s runs its own background tasks, in order', async (role, tasks) => {
    const loaded = loadConfig({ DATABASE_URL: database().url, BEEM_ROLE: role });
    const ctx = await createContext(loaded, { db: database().connect(), log: createLogger('silent') });
    try {
      expect(ctx.tasks.map((t) => t.name)).toEqual(tasks);
    } finally {
      await closeContext(ctx);
    }
  });

  it('shares the per-minute counts between processes: N in total across two pools', async () => {
    const [a, b] = [database().connect(), database().connect()];
    // Both at once, as processes starting together: neither trips over the other's CREATE TABLE.
    await Promise.all([prepareSharedRateLimits(a), prepareSharedRateLimits(b)]);
    const storeErrors: unknown[] = [];
    const shared = (db: typeof a) => new RateLimits(limits, { pool: postgresPoolOf(db)!, onStoreError: (err) => storeErrors.push(err) });
    const [first, second] = [shared(a), shared(b)];
    const decisions = [];
    for (let i = 0; i < 6; i += 1) decisions.push(await generate(i % 2 === 0 ? first : second, 'u-shared'));
    expect(decisions.map((d) => d?.rule ?? null)).toEqual([null, null, null, 'generate', 'generate', 'generate']);
    expect(decisions[3]!.retryAfterSeconds).toBeGreaterThan(0);
    // Another user has an allowance of their own.
    expect(await generate(second, 'u-other')).toBeNull();
    expect(storeErrors).toEqual([]);
  });

  it('counts in memory while the store is unreachable, and says so once', async () => {
    // A port nobody listens on: every store query fails at once.
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const pool = new pg.Pool({ connectionString: `postgres://beem:x@127.0.0.1:${port}/beem`, connectionTimeoutMillis: 2_000 });
    const reported: unknown[] = [];
    try {
      const rl = new RateLimits(limits, { pool, onStoreError: (err) => reported.push(err) });
      const decisions = [];
      for (let i = 0; i < 5; i += 1) decisions.push(await generate(rl, 'u-outage'));
      // Neither open to everyone nor closed to everyone: the limit still holds in this process.
      expect(decisions.map((d) => d?.rule ?? null)).toEqual([null, null, null, 'generate', 'generate']);
      expect(reported).toHaveLength(1);
      expect((reported[0] as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    } finally {
      await pool.end();
    }
  });
});
