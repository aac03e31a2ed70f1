import { beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { createGeneration } from '../../src/lib/generation/create.ts';
import { getGenerationView } from '../../src/lib/generation/views.ts';
import { estimateRemainingMs, median, MIN_SAMPLES, type WaitHistory } from '../../src/lib/generation/wait-estimate.ts';
import { getUserById } from '../../src/lib/auth/users.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';

const S = 1000;
const NOW = 10_000_000;
/** Three finished generations: 10 s to reach MiniMax, 50 s there; the line moved every 20 s. */
const HISTORY: WaitHistory = { startMs: [8 * S, 10 * S, 12 * S], runMs: [40 * S, 50 * S, 70 * S], lineGapMs: [20 * S, 20 * S, 30 * S] };

describe('wait estimate (pure)', () => {
  it.each([
    [[], null],
    [[5], 5],
    [[9, 1, 5], 5],
    [[4, 1, 3, 2], 3],
  ])('median of %j is %s', (values, expected) => {
    expect(median(values)).toBe(expected);
  });

  it.each([
    ['next in line, just accepted', { status: 'queued', createdAt: NOW - 4 * S, submittedAt: null, queuePosition: 1 }, 56 * S],
    ['next in line, its start already used up', { status: 'queued', createdAt: NOW - 30 * S, submittedAt: null, queuePosition: 1 }, 50 * S],
    ['third in line: two ahead at the line’s pace', { status: 'queued', createdAt: NOW, submittedAt: null, queuePosition: 3 }, 2 * 20 * S + 10 * S + 50 * S],
    ['at MiniMax for 20 s', { status: 'processing', createdAt: NOW - 30 * S, submittedAt: NOW - 20 * S, queuePosition: null }, 30 * S],
    ['at MiniMax longer than usual: no guess', { status: 'processing', createdAt: NOW - 90 * S, submittedAt: NOW - 80 * S, queuePosition: null }, null],
    ['finished', { status: 'success', createdAt: NOW - 90 * S, submittedAt: NOW - 80 * S, queuePosition: null }, null],
  ])('%s', (_name, generation, expected) => {
    expect(estimateRemainingMs(generation, HISTORY, NOW)).toBe(expected);
  });

  it('says nothing with fewer than MIN_SAMPLES finished generations', () => {
    const thin = { startMs: HISTORY.startMs.slice(0, MIN_SAMPLES - 1), runMs: HISTORY.runMs.slice(0, MIN_SAMPLES - 1), lineGapMs: [] };
    expect(estimateRemainingMs({ status: 'queued', createdAt: NOW, submittedAt: null, queuePosition: 1 }, thin, NOW)).toBeNull();
  });

  it('counts the queue ahead at the start pace when the line has never formed', () => {
    const noLine = { ...HISTORY, lineGapMs: [] };
    expect(estimateRemainingMs({ status: 'queued', createdAt: NOW, submittedAt: null, queuePosition: 2 }, noLine, NOW)).toBe(10 * S + 10 * S + 50 * S);
  });
});

describe('wait estimate in the status view (history from the database)', () => {
  const { config } = loadConfig({ NODE_ENV: 'test' });
  let db: Db;
  let userId: string;

  beforeEach(async () => {
    db = openDatabase(':memory:');
    migrate(db);
    userId = await seedUserWithPhoto(db, { now: 0, trialCredits: 50 });
  });

  const accept = async (at: number, duration: 6 | 10 = 6) =>
    (await createGeneration({ db, config, userId, body: { prompt: 'Флакон на столе', duration, mode: 'prompt' }, idempotencyKey: null, now: at })).generationId;
  /** A success that took `startS` to reach MiniMax and `runS` there. */
  const finished = async (createdAt: number, startS: number, runS: number, duration: 6 | 10 = 6) => {
    const id = await accept(createdAt, duration);
    await db.run(`UPDATE generations SET status = 'success', step = 'done', charged = 1, submittedAt = ?, completedAt = ? WHERE id = ?`, [createdAt + startS * S, createdAt + (startS + runS) * S, id]);
    return id;
  };
  const view = async (id: string) => (await getGenerationView(db, id, (await getUserById(db, userId))!, 'ru', NOW))!;

  it('is the median start and run of the last successes of the same mode and length, less the time already waited', async () => {
    await finished(1 * S, 8, 40);
    await finished(100 * S, 10, 50);
    await finished(200 * S, 12, 70);
    await finished(300 * S, 1, 1, 10); // another length: not counted
    const id = await accept(NOW - 4 * S);
    expect(await view(id)).toMatchObject({ status: 'queued', queuePosition: 1, etaMs: 56 * S });
  });

  it('counts the queue ahead', async () => {
    await finished(1 * S, 8, 40);
    await finished(100 * S, 10, 50);
    await finished(200 * S, 12, 70);
    await accept(NOW - 3 * S);
    const mine = await accept(NOW - 2 * S);
    // One ahead; the line has never formed, so it moves at the start pace (10 s).
    expect(await view(mine)).toMatchObject({ queuePosition: 2, etaMs: 10 * S + 10 * S + 50 * S });
  });

  it('shows nothing without enough history', async () => {
    await finished(1 * S, 8, 40);
    await finished(100 * S, 10, 50);
    const id = await accept(NOW - 4 * S);
    expect((await view(id)).etaMs).toBeNull();
    expect((await view(await accept(NOW - 1 * S, 10))).etaMs).toBeNull();
  });
});
