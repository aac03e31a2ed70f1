import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Db } from '../../src/lib/db/index.ts';
import type { Params, Row } from '../../src/lib/db/database.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { closeContext, createContext, type AppContext } from '../../src/lib/context.ts';
import { GenerationWorker } from '../../src/lib/generation/worker.ts';
import { seedGeneration } from '../helpers/queue.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';

/**
 * The worker's passes on a database whose answers take time (the data layer is async, and
 * on PostgreSQL a claim is a round trip): a pass still claiming is never doubled by later
 * wake-ups — two passes would fill the same free slots — and stop() waits for it. A row it
 * claims while the worker stops is given back at once; no step starts. Sweeps likewise: one
 * at a time, and waited for.
 */

const clock = new ManualClock(1_000_000);
let db: Db;
let ctx: AppContext;

beforeEach(async () => {
  db = openDatabase(':memory:');
  ctx = await createContext(loadConfig({ NODE_ENV: 'test' }), { db, clock, log: createLogger('silent') });
});
afterEach(async () => {
  await closeContext(ctx);
});

/** Statements that wait at a gate the test opens, counted. */
function gate() {
  const g = { started: 0, waiting: 0, most: 0, open: () => {} };
  const opened = new Promise<void>((resolve) => (g.open = resolve));
  const pass = async () => {
    g.started += 1;
    g.waiting += 1;
    g.most = Math.max(g.most, g.waiting);
    await opened;
    g.waiting -= 1;
  };
  return { g, pass };
}

/** The worker's database, whose claim statement waits at a gate. */
function gatedClaims() {
  const { g: claims, pass } = gate();
  const gated = Object.assign(Object.create(db) as Db, {
    get: async <R = Row>(sql: string, params?: Params): Promise<R | undefined> => {
      if (sql.startsWith('UPDATE generations SET locked_until = @leaseUntil')) await pass();
      return db.get<R>(sql, params);
    },
  });
  return { claims, gated };
}

/** The worker's database, whose sweep (its first read, of the lease holders) waits at a gate. */
function gatedSweeps() {
  const { g: sweeps, pass } = gate();
  const gated = Object.assign(Object.create(db) as Db, {
    all: async <R = Row>(sql: string, params?: Params): Promise<R[]> => {
      if (sql.startsWith('SELECT DISTINCT locked_by FROM generations')) await pass();
      return db.all<R>(sql, params);
    },
  });
  return { sweeps, gated };
}

/** Lets timers of 0 ms and the promises they start run (the worker's wake-ups are such timers). */
async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await turns(1);
  expect(check()).toBe(true);
}

describe('the generation worker on a slow database', () => {
  it('claims in one pass at a time however often it is woken, and stop() waits for that pass; its row is given back', async () => {
    const id = await seedGeneration(db, ctx.config, await seedUserWithPhoto(db, { now: clock.now() }), 'prepare', clock.now());
    const { claims, gated } = gatedClaims();
    const worker = new GenerationWorker({ ...ctx, db: gated });
    worker.start();
    await waitFor(() => claims.started === 1);

    for (let i = 0; i < 5; i++) worker.wake();
    await turns();
    expect(claims).toMatchObject({ started: 1, most: 1 });

    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    await turns();
    expect(stopped).toBe(false);
    claims.open();
    await stopping;

    expect(claims.started).toBe(1);
    expect(await db.get('SELECT step, attempt, locked_until, locked_by FROM generations WHERE id = ?', [id])).toEqual({
      step: 'prepare',
      attempt: 1,
      locked_until: null,
      locked_by: null,
    });
    expect((await db.all<{ kind: string }>('SELECT kind FROM generation_events WHERE generationId = ?', [id])).map((e) => e.kind)).toEqual([
      'created',
    ]);
  });

  it('sweeps one pass at a time when a sweep outlasts its interval, and stop() waits for the sweep', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { sweeps, gated } = gatedSweeps();
      const worker = new GenerationWorker({ ...ctx, db: gated });
      worker.start();
      await waitFor(() => sweeps.started === 1);
      // Five intervals pass while the boot sweep still waits for the database.
      vi.advanceTimersByTime(ctx.config.queue.sweepIntervalMs * 5);
      await turns();
      expect(sweeps).toMatchObject({ started: 1, most: 1 });

      let stopped = false;
      const stopping = worker.stop().then(() => {
        stopped = true;
      });
      await turns();
      expect(stopped).toBe(false);
      sweeps.open();
      await stopping;
      expect(sweeps).toMatchObject({ started: 1, waiting: 0 });
    } finally {
      vi.useRealTimers();
    }
  });
});
