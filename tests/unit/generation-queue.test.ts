import { beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { findLedgerMismatches } from '../../src/lib/billing/ledger.ts';
import { createGeneration } from '../../src/lib/generation/create.ts';
import {
  CLAIM_PICK_SQL,
  claimGeneration,
  failGeneration,
  findStuckGenerations,
  markDownloadReady,
  markGenerationSucceeded,
  markSubmitted,
  savePreparedPrompt,
  scheduleRetry,
} from '../../src/lib/generation/queue.ts';
import { seedUser } from '../helpers/fixtures.ts';
import { PREPARED_PROMPT as prepared } from '../helpers/queue.ts';

const { config } = loadConfig({ NODE_ENV: 'test' });

let db: Db;
let userId: string;
let now: number;
const balance = async () => (await db.value('SELECT generation_balance FROM users WHERE id = ?', [userId])) as number;

beforeEach(async () => {
  db = openDatabase(':memory:');
  migrate(db);
  now = 1_000_000;
  userId = (await seedUser(db, { now })).id;
  await db.run(`INSERT INTO uploads (id, userId, path, mime, width, height, bytes, createdAt) VALUES ('upl_1', ?, 'users/x/uploads/upl_1.jpg', 'image/jpeg', 640, 480, 10, ?)`, [userId, now]);
});

async function enqueue(): Promise<string> {
  return (await createGeneration({ db, config, userId, body: { prompt: 'Флакон на столе', duration: 6, mode: 'prompt' }, idempotencyKey: null, now })).generationId;
}

const claim = async (lane: 'prepare' | 'submit' | 'poll' | 'download', at = now) =>
  await claimGeneration(db, { lane, now: at, leaseMs: 1000, workerId: 'test' });

describe('generation queue', () => {
  it('claims through the partial indexes, never sorting or scanning finished rows', async () => {
    const plan = async (sql: string, params: Record<string, unknown>) =>
      ((await db.all(`EXPLAIN QUERY PLAN ${sql}`, params)) as Array<{ detail: string }>).map((p) => p.detail).join(' ');
    const live = await plan(CLAIM_PICK_SQL.live, { now: 1, step: 'prepare' });
    const late = await plan(CLAIM_PICK_SQL.late, { now: 1 });
    expect(live).toMatch(/USING INDEX idx_generations_live \(next_attempt_at<\?\)/);
    expect(late).toMatch(/USING INDEX idx_generations_late/);
    expect(`${live} ${late}`).not.toContain('TEMP B-TREE');
  });

  it('gives a row to one claimer at a time, and again once the lease lapses', async () => {
    const id = await enqueue();
    const first = await claim('prepare');
    expect(first).toMatchObject({ id, attempt: 1 });
    expect(await claim('prepare')).toBeNull();
    expect(await claim('prepare', now + 1001)).toMatchObject({ id, attempt: 2 });
  });

  it('fences a worker whose lease lapsed: its late writes change nothing', async () => {
    const id = await enqueue();
    const stale = (await claim('prepare'))!;
    const fresh = (await claim('prepare', now + 1001))!;
    expect(await savePreparedPrompt(db, stale, prepared, now)).toBe(false);
    expect(await failGeneration(db, id, { stage: 'X', code: 'Y', message: 'z', attempt: stale.attempt, keepWatching: false }, now)).toBe(false);
    expect(await savePreparedPrompt(db, fresh, prepared, now)).toBe(true);
    expect(await balance()).toBe(2);
  });

  it('refunds a failure exactly once, however often it is reported', async () => {
    const id = await enqueue();
    expect(await balance()).toBe(2);
    const c = (await claim('prepare'))!;
    expect(await failGeneration(db, id, { stage: 'MINIMAX_CALL', code: '1026', message: 'x', attempt: c.attempt, keepWatching: false }, now)).toBe(true);
    expect(await failGeneration(db, id, { stage: 'MINIMAX_CALL', code: '1026', message: 'x', attempt: null, keepWatching: false }, now)).toBe(false);
    expect(await balance()).toBe(3);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('charges a success once, and delivers free after a stuck failure', async () => {
    const id = await enqueue();
    await savePreparedPrompt(db, (await claim('prepare'))!, prepared, now);
    await markSubmitted(db, (await claim('submit'))!, { jobId: '1234567890', model: 'm', resolution: '768P', nextPollAt: now }, now);
    expect((await findStuckGenerations(db, now + 10_000, 5_000)).map((g) => g.id)).toEqual([id]);
    expect(await failGeneration(db, id, { stage: 'STUCK_GENERATION', code: 'STUCK', message: 'slow', attempt: null, keepWatching: true }, now)).toBe(true);
    expect(await balance()).toBe(3);

    const late = (await claimGeneration(db, { lane: 'late', now, leaseMs: 1000, workerId: 'test' }))!;
    expect(late.step).toBe('poll');
    expect(await markDownloadReady(db, late, { fileId: '1', width: 1, height: 1 }, now)).toBe(true);
    const download = (await claimGeneration(db, { lane: 'late', now, leaseMs: 1000, workerId: 'test' }))!;
    expect(await markGenerationSucceeded(db, download, { relativePath: 'users/x/videos/a.mp4', bytes: 10 }, now)).toBe(true);
    expect(await markGenerationSucceeded(db, download, { relativePath: 'users/x/videos/a.mp4', bytes: 10 }, now)).toBe(false);
    expect(await db.get('SELECT status, charged, refunded FROM generations WHERE id = ?', [id])).toEqual({ status: 'success', charged: 0, refunded: 1 });
    expect(await balance()).toBe(3);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });
});

describe('generation queue: a generation failed from outside the worker', () => {
  /** A row whose video MiniMax has finished, claimed by a worker for the download. */
  async function downloading(): Promise<{ id: string; download: NonNullable<Awaited<ReturnType<typeof claim>>> }> {
    const id = await enqueue();
    await savePreparedPrompt(db, (await claim('prepare'))!, prepared, now);
    await markSubmitted(db, (await claim('submit'))!, { jobId: `task-${id}`, model: 'm', resolution: '768P', nextPollAt: now }, now);
    await markDownloadReady(db, (await claim('poll'))!, { fileId: 'f1', width: 1, height: 1 }, now);
    return { id, download: (await claim('download'))! };
  }

  it('keeps the lease of a worker still running the step, so nobody starts the same download beside it', async () => {
    const { id, download } = await downloading();
    // An admin fails it while the download runs (lease until now + 1000).
    expect(await failGeneration(db, id, { stage: 'ADMIN', code: 'STUCK', message: 'by an admin', attempt: null, keepWatching: true, nextWatchAt: now + 10 }, now)).toBe(true);
    expect(await claimGeneration(db, { lane: 'late', now: now + 20, leaseMs: 1000, workerId: 'other' })).toBeNull();

    // The running download finishes and is delivered free: refunded once, never charged.
    expect(await markGenerationSucceeded(db, download, { relativePath: 'users/x/videos/a.mp4', bytes: 10 }, now + 30)).toBe(true);
    expect(await db.get('SELECT status, charged, refunded FROM generations WHERE id = ?', [id])).toEqual({ status: 'success', charged: 0, refunded: 1 });
    expect(await balance()).toBe(3);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('still drops a lapsed lease when failing, so the late watch can take the row', async () => {
    const { id } = await downloading();
    expect(await failGeneration(db, id, { stage: 'STUCK_GENERATION', code: 'STUCK', message: 'slow', attempt: null, keepWatching: true, nextWatchAt: now + 2000 }, now + 1500)).toBe(true);
    expect(await claimGeneration(db, { lane: 'late', now: now + 2000, leaseMs: 1000, workerId: 'other' })).toMatchObject({ id, step: 'download' });
  });

  it('keeps the recorded failure when a retry is scheduled afterwards (late watch, or a worker that was running)', async () => {
    const id = await enqueue();
    await savePreparedPrompt(db, (await claim('prepare'))!, prepared, now);
    await markSubmitted(db, (await claim('submit'))!, { jobId: `task-${id}`, model: 'm', resolution: '768P', nextPollAt: now }, now);
    await failGeneration(db, id, { stage: 'STUCK_GENERATION', code: 'STUCK', message: 'no result', attempt: null, keepWatching: true, nextWatchAt: now }, now);
    const late = (await claimGeneration(db, { lane: 'late', now, leaseMs: 1000, workerId: 'test' }))!;
    expect(await scheduleRetry(db, late, { stage: 'MINIMAX_CALL', code: 'HTTP_500', message: 'gateway' }, 100, now)).toBe(true);
    expect(await db.get('SELECT status, step, error_stage, error_code, error_message, next_attempt_at FROM generations WHERE id = ?', [id])).toEqual({
      status: 'failed',
      step: 'poll',
      error_stage: 'STUCK_GENERATION',
      error_code: 'STUCK',
      error_message: 'no result',
      next_attempt_at: now + 100,
    });
  });

  it('counts only tasks waiting at MiniMax as stuck, not a video being fetched (its retries are bounded)', async () => {
    const { id, download } = await downloading();
    await scheduleRetry(db, download, { stage: 'VIDEO_DOWNLOAD', code: 'DOWNLOAD_NETWORK', message: 'reset' }, 10, now);
    expect((await findStuckGenerations(db, now + 60_000, 5_000)).map((g) => g.id)).not.toContain(id);
  });

  it('never charges for a task the worker submits after an admin failed the generation', async () => {
    const id = await enqueue();
    await savePreparedPrompt(db, (await claim('prepare'))!, prepared, now);
    const submit = (await claim('submit'))!;
    expect(await failGeneration(db, id, { stage: 'ADMIN', code: 'STUCK', message: 'by an admin', attempt: null, keepWatching: false }, now)).toBe(true);
    // MiniMax accepted the task meanwhile; the row is no longer the worker's to move on.
    expect(await markSubmitted(db, submit, { jobId: `task-${id}`, model: 'm', resolution: '768P', nextPollAt: now }, now)).toBe(false);
    expect(await db.get('SELECT status, step, charged, refunded, minimax_job_id FROM generations WHERE id = ?', [id])).toEqual({
      status: 'failed',
      step: 'done',
      charged: 0,
      refunded: 1,
      minimax_job_id: null,
    });
    expect(await balance()).toBe(3);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });
});
