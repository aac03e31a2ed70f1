import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import type { Database, Params } from '../../src/lib/db/database.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { getUserById, type User } from '../../src/lib/auth/users.ts';
import { MAX_BACKLOG_BYTES, StatusWatch, type StatusSink } from '../../src/lib/generation/status-watch.ts';
import { seedGeneration } from '../helpers/queue.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';

/**
 * The shared ticker behind `/api/status/stream`, with sinks that record what they are sent:
 * the bounds (in all, per stream's age, a slow reader) and that a quiet generation costs
 * no events between heartbeats. The HTTP side is in tests/integration/status-stream.test.ts.
 */

const { config } = loadConfig({ NODE_ENV: 'test' });
const LIMITS = { maxOpen: 2, maxPerUser: 5, tickMs: 100, heartbeatMs: 60_000, maxAgeMs: 60_000 };

class RecordingSink implements StatusSink {
  events: string[] = [];
  ended = false;
  unread = 0;
  event(data: string) {
    this.events.push(data);
  }
  end() {
    this.ended = true;
  }
  backlog() {
    return this.unread;
  }
}

let db: Db;
let viewer: User;
let watch: StatusWatch | null = null;

beforeEach(async () => {
  db = openDatabase(':memory:');
  migrate(db);
  viewer = (await getUserById(db, await seedUserWithPhoto(db, { now: 1000, trialCredits: 10 })))!;
});
afterEach(async () => {
  await watch?.stop();
});

const hub = (limits: Partial<typeof LIMITS> = {}) =>
  (watch = new StatusWatch({ db, clock: new ManualClock(5000), log: createLogger('silent'), limits: { ...LIMITS, ...limits } }));
const open = async (w: StatusWatch, generationId: string, sink = new RecordingSink()) => ({
  sink,
  result: await w.watch({ generationId, viewer, locale: 'ru', sink, stillSignedIn: () => true }),
});
const ticks = (n: number) => new Promise((resolve) => setTimeout(resolve, LIMITS.tickMs * n + 50));
/** Waits (for ticks, however slow the machine) until `check` holds. */
const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(check()).toBe(true);
};

describe('status watch', () => {
  it('refuses a stream beyond STATUS_STREAMS_MAX and takes one again when a place frees', async () => {
    const w = hub();
    const id = await seedGeneration(db, config, viewer.id, 'poll', 1000);
    const first = await open(w, id);
    await open(w, id);
    expect((await open(w, id)).result).toEqual({ kind: 'too-many', scope: 'total' });
    if (first.result.kind === 'open') first.result.close();
    expect((await open(w, id)).result.kind).toBe('open');
  });

  it('sends nothing between heartbeats while the generation does not change, then follows a change', async () => {
    const w = hub();
    const id = await seedGeneration(db, config, viewer.id, 'poll', 1000);
    const { sink } = await open(w, id);
    await ticks(3);
    expect(sink.events).toHaveLength(1);
    await db.run(`UPDATE generations SET step = 'download', updatedAt = updatedAt + 1 WHERE id = ?`, [id]);
    await until(() => sink.events.length === 2);
    expect(sink.events.map((e) => JSON.parse(e).step)).toEqual(['poll', 'download']);
  });

  it('drops a reader that leaves too much unread, and a stream past its age', async () => {
    const w = hub({ maxAgeMs: 150 });
    const id = await seedGeneration(db, config, viewer.id, 'poll', 1000);
    const slow = (await open(w, id)).sink;
    slow.unread = MAX_BACKLOG_BYTES + 1;
    await until(() => slow.ended);
    const old = (await open(w, id)).sink;
    await until(() => old.ended);
    expect(w.openCount).toBe(0);
  });
});

describe('status watch on a slow database', () => {
  /** The watch's database, whose batched row read waits at a gate the test opens. */
  function gatedReads() {
    const gate = { reads: 0, reading: 0, most: 0, open: () => {} };
    let opened = new Promise<void>((resolve) => (gate.open = resolve));
    const slow: Database = Object.assign(Object.create(db) as Db, {
      all: async <R,>(sql: string, params?: Params): Promise<R[]> => {
        if (sql.startsWith('SELECT id, status, updatedAt FROM generations')) {
          gate.reads += 1;
          gate.reading += 1;
          gate.most = Math.max(gate.most, gate.reading);
          await opened;
          opened = new Promise<void>((resolve) => (gate.open = resolve));
          gate.reading -= 1;
        }
        return db.all<R>(sql, params);
      },
    });
    return { gate, slow };
  }
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('reads once per tick and starts no second read while one is still waiting', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { gate, slow } = gatedReads();
      const w = (watch = new StatusWatch({ db: slow, clock: new ManualClock(5000), log: createLogger('silent'), limits: LIMITS }));
      const id = await seedGeneration(db, config, viewer.id, 'poll', 1000);
      await open(w, id);
      vi.advanceTimersByTime(LIMITS.tickMs);
      await settle();
      expect(gate.reads).toBe(1);
      // Five more ticks are due while the read waits: none of them reads beside it.
      vi.advanceTimersByTime(LIMITS.tickMs * 5);
      await settle();
      expect(gate.reads).toBe(1);
      gate.open();
      await settle();
      vi.advanceTimersByTime(LIMITS.tickMs);
      await settle();
      expect(gate.reads).toBe(2);
      expect(gate.most).toBe(1);
      gate.open();
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops only after the pass that is reading has ended', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { gate, slow } = gatedReads();
      const w = new StatusWatch({ db: slow, clock: new ManualClock(5000), log: createLogger('silent'), limits: LIMITS });
      const id = await seedGeneration(db, config, viewer.id, 'poll', 1000);
      const { sink } = await open(w, id);
      vi.advanceTimersByTime(LIMITS.tickMs);
      await settle();
      expect(gate.reading).toBe(1);
      let stopped = false;
      const stopping = w.stop().then(() => (stopped = true));
      await settle();
      expect(sink.ended).toBe(true);
      expect(stopped).toBe(false);
      gate.open();
      await stopping;
      expect(gate.reading).toBe(0);
      // The pass that was reading wrote nothing to the stream it found ended.
      expect(sink.events).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
