import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import type { TelegramEmulator } from '../../sandbox/telegram/index.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/defaults.ts';
import { systemClock } from '../../src/lib/clock.ts';
import type { Database } from '../../src/lib/db/database.ts';
import { migratePostgres } from '../../src/lib/db/migrate-postgres.ts';
import { createSharedCooldown } from '../../src/lib/notify/shared-cooldown.ts';
import { createTelegramNotifier } from '../../src/lib/notify/telegram-notifier.ts';
import { createTelegramClient } from '../../src/lib/providers/telegram/client.ts';
import { loadConfig, type ProcessRole } from '../../src/lib/config.ts';
import { closeContext, createContext } from '../../src/lib/context.ts';
import { postgresPoolOf } from '../../src/lib/db/postgres.ts';
import { RateLimits } from '../../src/lib/http/rate-limits.ts';
import { prepareSharedCounters } from '../../src/lib/db/shared-counters.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { usePostgresDatabase } from '../helpers/postgres.ts';

/**
 * BEEM_ROLE on PostgreSQL: which background tasks each kind of process runs, and what processes
 * share through the database: the per-minute limits and the alert cooldown (the multi-process
 * integration test runs the built server in both roles).
 */

/** A PostgreSQL URL on a port nobody listens on: every query fails at once. */
async function unreachablePool(): Promise<pg.Pool> {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return new pg.Pool({ connectionString: `postgres://beem:x@127.0.0.1:${port}/beem`, connectionTimeoutMillis: 2_000 });
}

const WEB_TASKS = ['status-streams', 'sign-in-discovery'];
const WORKER_TASKS = ['generation-worker', 'video-posters', 'video-exports', 'reconcile-payments', 'sweep-sessions', 'video-retention'];
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
    await Promise.all([prepareSharedCounters(a), prepareSharedCounters(b)]);
    const storeErrors: unknown[] = [];
    const shared = (db: typeof a) => new RateLimits(limits, { pool: postgresPoolOf(db)!, onStoreError: (err) => storeErrors.push(err) });
    const [first, second] = [shared(a), shared(b)];
    const decisions = [];
    for (let i = 0; i < 6; i += 1) decisions.push(await generate(i % 2 === 0 ? first : second, 'u-shared'));
    expect(decisions.map((d) => d?.rule ?? null)).toEqual([null, null, null, 'generate', 'generate', 'generate']);
    expect(decisions[3]!.retryAfterSeconds).toBeGreaterThan(0);
    // Another user has an allowance of their own.
    expect(await generate(second, 'u-other')).toBeNull();
    // A key of any length (an address header behind a proxy) fits the table.
    expect(await first.consume({ method: 'POST', route: '/api/generate', userId: null, ip: 'f'.repeat(5_000) })).toBeNull();
    expect(storeErrors).toEqual([]);
  });

  it('counts in memory while the store is unreachable, and says so once', async () => {
    const pool = await unreachablePool();
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

  describe('operator alerts', () => {
    let sandbox: Sandbox;
    let telegram: TelegramEmulator;
    beforeAll(async () => {
      sandbox = await startSandbox();
      telegram = sandbox.emulator<TelegramEmulator>('telegram');
    });
    afterAll(() => sandbox.close());

    const notifierOn = (db: Database, cooldownPool: pg.Pool) =>
      createTelegramNotifier({
        db,
        log: createLogger('silent'),
        clock: systemClock,
        telegram: {
          client: createTelegramClient({ apiBase: `${sandbox.url}/telegram`, botToken: SANDBOX_CREDENTIALS.telegramBotToken, timeoutMs: 2_000 }),
          chatId: SANDBOX_CREDENTIALS.telegramChatId,
        },
        minIntervalMs: 0,
        sharedCooldown: createSharedCooldown({ pool: cooldownPool, cooldownMs: 60_000 }),
      });
    const deliveries = async (db: Database, stage: string) =>
      (await db.all<{ delivery: string }>('SELECT delivery FROM operator_alerts WHERE stage = ? ORDER BY delivery', [stage])).map((r) => r.delivery);

    it('sends a stage::error once a minute across processes, and sends anyway when the shared cooldown cannot be asked', async () => {
      const [a, b] = [database().connect(), database().connect()];
      await migratePostgres(a);
      await prepareSharedCounters(a);
      telegram.reset();
      const [first, second] = [notifierOn(a, postgresPoolOf(a)!), notifierOn(b, postgresPoolOf(b)!)];
      first.alert({ stage: 'MINIMAX_CALL', error: 'HTTP 503' });
      second.alert({ stage: 'MINIMAX_CALL', error: 'HTTP 503' });
      second.alert({ stage: 'MINIMAX_CALL', error: 'HTTP 502' });
      await Promise.all([first.flush(), second.flush()]);
      expect(telegram.messages.map((m) => m.visible.split('Error: ')[1]).sort()).toEqual(['HTTP 502', 'HTTP 503']);
      expect(await deliveries(a, 'MINIMAX_CALL')).toEqual(['sent', 'sent', 'suppressed']);

      const pool = await unreachablePool();
      try {
        const cut = notifierOn(a, pool);
        cut.alert({ stage: 'VIDEO_DOWNLOAD', error: 'timeout' });
        await cut.flush();
        expect(await deliveries(a, 'VIDEO_DOWNLOAD')).toEqual(['sent']);
      } finally {
        await pool.end();
      }
    });
  });
});
