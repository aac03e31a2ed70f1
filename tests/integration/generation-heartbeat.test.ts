import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { FAST_MINIMAX } from '../../sandbox/minimax/test-support.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { createContext, type AppContext } from '../../src/lib/context.ts';
import { migrate, withAsyncApi, type Db } from '../../src/lib/db/index.ts';
import { claimGeneration } from '../../src/lib/generation/queue.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { tempDir } from '../helpers/app.ts';
import { waitUntil } from '../helpers/generation.ts';
import { seedGeneration } from '../helpers/queue.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';

/**
 * The worker extends the lease of a step while it runs (a 500 MB download outlives one
 * lease), fenced by the attempt like every other queue write: once its row was claimed again
 * by someone else, its heartbeat must neither extend nor shorten the new holder's lease.
 *
 * A fenced heartbeat that matches no row leaves no trace in the table, so the test watches
 * the statements themselves (better-sqlite3's `verbose` trace): "the heartbeat has run since"
 * is then a fact to wait for, not a guess about timers. The step is held open at the network
 * boundary: MiniMax's status query hangs.
 */

const LEASE_MS = 150;

describe('the worker’s lease heartbeat', () => {
  let sandbox: Sandbox;
  let ctx: AppContext;
  let db: Db;
  let dir: string;
  const clock = new ManualClock();
  /** Heartbeat statements run, per generation id (only the worker's step extends a lease). */
  const heartbeats = new Map<string, number>();

  beforeAll(async () => {
    sandbox = await startSandbox({ minimax: FAST_MINIMAX });
    db = withAsyncApi(new Database(':memory:', {
      verbose: (sql) => {
        const beat = /^UPDATE generations SET locked_until = [\d.]+ WHERE id = '([^']+)'/.exec(String(sql));
        if (beat) heartbeats.set(beat[1]!, (heartbeats.get(beat[1]!) ?? 0) + 1);
      },
    }));
    db.pragma('foreign_keys = ON');
    migrate(db);
    dir = tempDir();
    const loaded = loadConfig({
      NODE_ENV: 'test',
      SANDBOX_URL: sandbox.url,
      DATABASE_URL: path.join(dir, 'unused.db'),
      STORAGE_DIR: path.join(dir, 'storage'),
      QUEUE_LEASE_MS: String(LEASE_MS),
      // The held query must outlast the test; closing the sandbox ends it.
      MINIMAX_REQUEST_TIMEOUT_MS: '120000',
      POLL_INTERVAL_MS: '60000',
      QUEUE_SWEEP_INTERVAL_MS: '600000',
    });
    ctx = await createContext(loaded, { db, clock, log: createLogger('silent') });
    ctx.generationWorker.start();
  });
  afterAll(async () => {
    await sandbox.close();
    await ctx.generationWorker.stop();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A generation waiting at MiniMax that the worker has claimed and is polling (the query hangs). */
  async function pollingGeneration(): Promise<{ id: string; attempt: number }> {
    sandbox.emulator<MinimaxEmulator>('minimax').injectFault({ kind: 'hang', on: 'query', ms: 120_000 });
    const id = await seedGeneration(db, ctx.config, await seedUserWithPhoto(db, { now: clock.now() }), 'poll', clock.now());
    ctx.generationWorker.wake();
    await waitUntil(async () => (await leaseOf(id)).locked_by === ctx.generationWorker.workerId, 10_000, 'the worker to claim the row');
    return { id, attempt: (await leaseOf(id)).attempt };
  }

  const leaseOf = async (id: string) =>
    (await db.get('SELECT attempt, locked_until, locked_by FROM generations WHERE id = ?', [id])) as {
      attempt: number;
      locked_until: number | null;
      locked_by: string | null;
    };

  /** Moves the clock (by less than a lease: the worker's own lease never lapses) and waits for the next heartbeat. */
  async function nextHeartbeat(id: string): Promise<void> {
    clock.advance(LEASE_MS / 3);
    const seen = heartbeats.get(id) ?? 0;
    await waitUntil(() => (heartbeats.get(id) ?? 0) > seen, 10_000, 'a heartbeat');
  }

  it('extends the lease of the attempt it runs, and not once the row was claimed again by another worker', async () => {
    const { id, attempt } = await pollingGeneration();
    for (let beat = 0; beat < 2; beat += 1) {
      await nextHeartbeat(id);
      expect(await leaseOf(id)).toEqual({ attempt, locked_until: clock.now() + LEASE_MS, locked_by: ctx.generationWorker.workerId });
    }

    // Seen from another worker's clock the lease has lapsed: it claims the row (attempt + 1).
    const other = await claimGeneration(db, { lane: 'poll', now: clock.now() + 10 * LEASE_MS, leaseMs: 60_000, workerId: 'other' });
    expect(other).toMatchObject({ id, attempt: attempt + 1 });
    const taken = await leaseOf(id);
    for (let beat = 0; beat < 2; beat += 1) {
      await nextHeartbeat(id);
      expect(await leaseOf(id)).toEqual(taken);
    }
  });
});
