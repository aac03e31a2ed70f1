import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
 * claims while the worker stops is given back at once; no step starts.
 */

const clock = new ManualClock(1_000_000);
let db: Db;
let ctx: AppContext;

beforeEach(() => {
  db = openDatabase(':memory:');
  ctx = createContext(loadConfig({ NODE_ENV: 'test' }), { db, clock, log: createLogger('silent') });
});
afterEach(() => {
  closeContext(ctx);
});

/** The worker's database, whose claim statement waits at a gate the test opens. */
function gatedClaims() {
  const claims = { started: 0, waiting: 0, most: 0, open: () => {} };
  const opened = new Promise<void>((resolve) => (claims.open = resolve));
  const gated = Object.assign(Object.create(db) as Db, {
    get: async <R = Row>(sql: string, params?: Params): Promise<R | undefined> => {
      if (sql.startsWith('UPDATE generations SET locked_until = @leaseUntil')) {
        claims.started += 1;
        claims.waiting += 1;
        claims.most = Math.max(claims.most, claims.waiting);
        await opened;
        claims.waiting -= 1;
      }
      return db.get<R>(sql, params);
    },
  });
  return { claims, gated };
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
});
