import { beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { findLedgerMismatches } from '../../src/lib/billing/ledger.ts';
import { cancelGeneration } from '../../src/lib/generation/cancel.ts';
import { claimGeneration, markGenerationSucceeded, markSubmitStarted, savePreparedPrompt } from '../../src/lib/generation/queue.ts';
import { reasonForError } from '../../src/lib/generation/transitions.ts';
import { getGenerationView } from '../../src/lib/generation/views.ts';
import type { User } from '../../src/lib/auth/users.ts';
import { PREPARED_PROMPT, seedGeneration } from '../helpers/queue.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';

/**
 * A user's cancel against the worker (issue 16 §5): whichever of the two writes SQLite
 * orders first wins, and money moves exactly once. "Reached MiniMax" is decided by
 * `submit_started_at`, which the worker writes before its create call.
 */

const { config } = loadConfig({ NODE_ENV: 'test' });
const T0 = 1_000_000;
let db: Db;
let userId: string;

beforeEach(async () => {
  db = openDatabase(':memory:');
  migrate(db);
  userId = await seedUserWithPhoto(db, { now: T0 });
});

const balance = async () => (await db.value('SELECT generation_balance FROM users WHERE id = ?', [userId])) as number;
const row = async (id: string) => (await db.get('SELECT * FROM generations WHERE id = ?', [id])) as Record<string, unknown>;
const refunds = async (id: string) =>
  (await db.value(`SELECT COUNT(*) FROM credit_ledger WHERE reference = ?`, [`refund:${id}`])) as number;
const claim = async (lane: 'prepare' | 'submit' | 'download', now = T0) => {
  const taken = await claimGeneration(db, { lane, now, leaseMs: 60_000, workerId: 'worker-a' });
  if (!taken) throw new Error(`nothing to claim in ${lane}`);
  return taken;
};

describe('cancelling a generation before it reaches MiniMax', () => {
  it('fails a queued one with USER_CANCELED and returns its credits at once, once', async () => {
    const before = await balance();
    const id = await seedGeneration(db, config, userId, 'prepare', T0);
    expect(await balance()).toBe(before - 1);
    expect(await cancelGeneration(db, { generationId: id, userId, now: T0 + 5 })).toEqual({ kind: 'canceled', refundedNow: true });
    expect(await row(id)).toMatchObject({ status: 'failed', step: 'done', refunded: 1, charged: 0, error_code: 'USER_CANCELED', error_stage: 'USER' });
    expect(reasonForError((await row(id)).error_code as string)).toBe('USER_CANCELED');
    expect(await balance()).toBe(before);
    expect(await refunds(id)).toBe(1);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('answers a second cancel as done and refunds nothing more', async () => {
    const before = await balance();
    const id = await seedGeneration(db, config, userId, 'submit', T0);
    expect(await cancelGeneration(db, { generationId: id, userId, now: T0 + 1 })).toEqual({ kind: 'canceled', refundedNow: true });
    expect(await cancelGeneration(db, { generationId: id, userId, now: T0 + 2 })).toEqual({ kind: 'canceled', refundedNow: false });
    expect(await balance()).toBe(before);
    expect(await refunds(id)).toBe(1);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('treats someone else’s generation as unknown and leaves it running', async () => {
    const id = await seedGeneration(db, config, userId, 'prepare', T0);
    const stranger = await seedUserWithPhoto(db, { now: T0, email: 'stranger@example.com' });
    expect(await cancelGeneration(db, { generationId: id, userId: stranger, now: T0 + 1 })).toEqual({ kind: 'not-found' });
    expect(await cancelGeneration(db, { generationId: 'gen_missing', userId, now: T0 + 1 })).toEqual({ kind: 'not-found' });
    expect(await row(id)).toMatchObject({ status: 'queued', refunded: 0 });
  });

  it('refuses once the video is delivered, and charges it as usual', async () => {
    const id = await seedGeneration(db, config, userId, 'download', T0);
    await markGenerationSucceeded(db, await claim('download'), { relativePath: 'users/x/videos/a.mp4', bytes: 10 }, T0 + 1);
    const before = await balance();
    expect(await cancelGeneration(db, { generationId: id, userId, now: T0 + 2 })).toEqual({ kind: 'finished' });
    expect(await row(id)).toMatchObject({ status: 'success', charged: 1, refunded: 0 });
    expect(await balance()).toBe(before);
    expect(await refunds(id)).toBe(0);
  });

  it('refuses once MiniMax has the task (processing)', async () => {
    const id = await seedGeneration(db, config, userId, 'poll', T0);
    expect(await cancelGeneration(db, { generationId: id, userId, now: T0 + 1 })).toEqual({ kind: 'at-minimax' });
    expect(await row(id)).toMatchObject({ status: 'processing', refunded: 0 });
    expect(await refunds(id)).toBe(0);
  });

  describe('racing the worker', () => {
    it('cancel first: the worker’s submit mark finds the row failed, so no create call is made', async () => {
      const id = await seedGeneration(db, config, userId, 'submit', T0);
      const held = await claim('submit');
      expect((await cancelGeneration(db, { generationId: id, userId, now: T0 + 1 })).kind).toBe('canceled');
      // The worker checks this before it calls MiniMax (worker.ts `submit`).
      expect(await markSubmitStarted(db, held, T0 + 2)).toBe(false);
      expect(await row(id)).toMatchObject({ status: 'failed', submit_started_at: null, minimax_job_id: null, error_code: 'USER_CANCELED' });
      expect(await refunds(id)).toBe(1);
    });

    it('worker first: once the submit mark is written (create call under way), the cancel is refused and nothing moves', async () => {
      const id = await seedGeneration(db, config, userId, 'submit', T0);
      const held = await claim('submit');
      expect(await markSubmitStarted(db, held, T0 + 1)).toBe(true);
      const before = await balance();
      expect(await cancelGeneration(db, { generationId: id, userId, now: T0 + 2 })).toEqual({ kind: 'at-minimax' });
      expect(await row(id)).toMatchObject({ status: 'queued', step: 'submit', refunded: 0, locked_by: 'worker-a' });
      expect(await balance()).toBe(before);
      expect(await refunds(id)).toBe(0);
    });

    it('refuses after an interrupted submission too: MiniMax may hold a task for it', async () => {
      const id = await seedGeneration(db, config, userId, 'submit', T0);
      await markSubmitStarted(db, await claim('submit'), T0 + 1);
      // The worker crashed in the create call; its lease lapsed and nobody holds the row.
      await db.run('UPDATE generations SET locked_until = NULL, locked_by = NULL WHERE id = ?', [id]);
      expect(await cancelGeneration(db, { generationId: id, userId, now: T0 + 2 })).toEqual({ kind: 'at-minimax' });
      expect(await row(id)).toMatchObject({ status: 'queued', refunded: 0 });
    });

    it('cancel during the prompt step: the prepared prompt is not saved and the row stays failed', async () => {
      const id = await seedGeneration(db, config, userId, 'prepare', T0);
      const held = await claim('prepare');
      expect((await cancelGeneration(db, { generationId: id, userId, now: T0 + 1 })).kind).toBe('canceled');
      expect(await savePreparedPrompt(db, held, PREPARED_PROMPT, T0 + 2)).toBe(false);
      expect(await row(id)).toMatchObject({ status: 'failed', step: 'done', prompt_final: null });
      expect(await claimGeneration(db, { lane: 'submit', now: T0 + 120_000, leaseMs: 1000, workerId: 'worker-b' })).toBeNull();
      expect(await refunds(id)).toBe(1);
      expect(await findLedgerMismatches(db)).toEqual([]);
    });
  });
});

describe('the status view’s `cancellable`', () => {
  const viewer = () => ({ id: userId, role: 'user' }) as User;
  const admin = { id: 'usr_admin', role: 'admin' } as User;
  const cancellable = async (id: string, who: User = viewer()) => (await getGenerationView(db, id, who, 'ru', T0 + 1))!.cancellable;
  /** Each state the cancel's guard decides on, made the way the worker makes it. */
  const states: Array<[string, boolean, () => Promise<string>]> = [
    ['waiting for its prompt', true, () => seedGeneration(db, config, userId, 'prepare', T0)],
    ['in its prompt step', true, async () => {
      const id = await seedGeneration(db, config, userId, 'prepare', T0);
      await claim('prepare');
      return id;
    }],
    ['waiting to be sent', true, () => seedGeneration(db, config, userId, 'submit', T0)],
    ['held by the worker before its create call', true, async () => {
      const id = await seedGeneration(db, config, userId, 'submit', T0);
      await claim('submit');
      return id;
    }],
    ['in its create call', false, async () => {
      const id = await seedGeneration(db, config, userId, 'submit', T0);
      await markSubmitStarted(db, await claim('submit'), T0);
      return id;
    }],
    ['after an interrupted create call', false, async () => {
      const id = await seedGeneration(db, config, userId, 'submit', T0);
      await markSubmitStarted(db, await claim('submit'), T0);
      await db.run('UPDATE generations SET locked_until = NULL, locked_by = NULL WHERE id = ?', [id]);
      return id;
    }],
    ['rendering at MiniMax', false, () => seedGeneration(db, config, userId, 'poll', T0)],
    ['watched after a stuck failure', false, () => seedGeneration(db, config, userId, 'watching', T0)],
    ['delivered', false, async () => {
      const id = await seedGeneration(db, config, userId, 'download', T0);
      await markGenerationSucceeded(db, await claim('download'), { relativePath: 'v.mp4', bytes: 1 }, T0);
      return id;
    }],
    ['cancelled already', false, async () => {
      const id = await seedGeneration(db, config, userId, 'prepare', T0);
      await cancelGeneration(db, { generationId: id, userId, now: T0 });
      return id;
    }],
  ];

  it.each(states)('%s: %s, and the cancel then does what it said', async (_, expected, make) => {
    const id = await make();
    expect(await cancellable(id)).toBe(expected);
    const outcome = await cancelGeneration(db, { generationId: id, userId, now: T0 + 2 });
    expect(outcome.kind === 'canceled' && outcome.refundedNow).toBe(expected);
    expect(await cancellable(id)).toBe(false);
  });

  it('is the owner’s: an admin may look, but not cancel', async () => {
    const id = await seedGeneration(db, config, userId, 'prepare', T0);
    expect(await cancellable(id)).toBe(true);
    expect(await cancellable(id, admin)).toBe(false);
  });
});
