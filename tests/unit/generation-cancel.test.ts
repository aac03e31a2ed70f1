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

const balance = () => db.prepare('SELECT generation_balance FROM users WHERE id = ?').pluck().get(userId) as number;
const row = (id: string) => db.prepare('SELECT * FROM generations WHERE id = ?').get(id) as Record<string, unknown>;
const refunds = (id: string) =>
  db.prepare(`SELECT COUNT(*) FROM credit_ledger WHERE reference = ?`).pluck().get(`refund:${id}`) as number;
const claim = (lane: 'prepare' | 'submit' | 'download', now = T0) => {
  const taken = claimGeneration(db, { lane, now, leaseMs: 60_000, workerId: 'worker-a' });
  if (!taken) throw new Error(`nothing to claim in ${lane}`);
  return taken;
};

describe('cancelling a generation before it reaches MiniMax', () => {
  it('fails a queued one with USER_CANCELED and returns its credits at once, once', async () => {
    const before = balance();
    const id = seedGeneration(db, config, userId, 'prepare', T0);
    expect(balance()).toBe(before - 1);
    expect(cancelGeneration(db, { generationId: id, userId, now: T0 + 5 })).toEqual({ kind: 'canceled', refundedNow: true });
    expect(row(id)).toMatchObject({ status: 'failed', step: 'done', refunded: 1, charged: 0, error_code: 'USER_CANCELED', error_stage: 'USER' });
    expect(reasonForError(row(id).error_code as string)).toBe('USER_CANCELED');
    expect(balance()).toBe(before);
    expect(refunds(id)).toBe(1);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('answers a second cancel as done and refunds nothing more', async () => {
    const before = balance();
    const id = seedGeneration(db, config, userId, 'submit', T0);
    expect(cancelGeneration(db, { generationId: id, userId, now: T0 + 1 })).toEqual({ kind: 'canceled', refundedNow: true });
    expect(cancelGeneration(db, { generationId: id, userId, now: T0 + 2 })).toEqual({ kind: 'canceled', refundedNow: false });
    expect(balance()).toBe(before);
    expect(refunds(id)).toBe(1);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('treats someone else’s generation as unknown and leaves it running', async () => {
    const id = seedGeneration(db, config, userId, 'prepare', T0);
    const stranger = await seedUserWithPhoto(db, { now: T0, email: 'stranger@example.com' });
    expect(cancelGeneration(db, { generationId: id, userId: stranger, now: T0 + 1 })).toEqual({ kind: 'not-found' });
    expect(cancelGeneration(db, { generationId: 'gen_missing', userId, now: T0 + 1 })).toEqual({ kind: 'not-found' });
    expect(row(id)).toMatchObject({ status: 'queued', refunded: 0 });
  });

  it('refuses once the video is delivered, and charges it as usual', () => {
    const id = seedGeneration(db, config, userId, 'download', T0);
    markGenerationSucceeded(db, claim('download'), { relativePath: 'users/x/videos/a.mp4', bytes: 10 }, T0 + 1);
    const before = balance();
    expect(cancelGeneration(db, { generationId: id, userId, now: T0 + 2 })).toEqual({ kind: 'finished' });
    expect(row(id)).toMatchObject({ status: 'success', charged: 1, refunded: 0 });
    expect(balance()).toBe(before);
    expect(refunds(id)).toBe(0);
  });

  it('refuses once MiniMax has the task (processing)', () => {
    const id = seedGeneration(db, config, userId, 'poll', T0);
    expect(cancelGeneration(db, { generationId: id, userId, now: T0 + 1 })).toEqual({ kind: 'at-minimax' });
    expect(row(id)).toMatchObject({ status: 'processing', refunded: 0 });
    expect(refunds(id)).toBe(0);
  });

  describe('racing the worker', () => {
    it('cancel first: the worker’s submit mark finds the row failed, so no create call is made', () => {
      const id = seedGeneration(db, config, userId, 'submit', T0);
      const held = claim('submit');
      expect(cancelGeneration(db, { generationId: id, userId, now: T0 + 1 }).kind).toBe('canceled');
      // The worker checks this before it calls MiniMax (worker.ts `submit`).
      expect(markSubmitStarted(db, held, T0 + 2)).toBe(false);
      expect(row(id)).toMatchObject({ status: 'failed', submit_started_at: null, minimax_job_id: null, error_code: 'USER_CANCELED' });
      expect(refunds(id)).toBe(1);
    });

    it('worker first: once the submit mark is written (create call under way), the cancel is refused and nothing moves', () => {
      const id = seedGeneration(db, config, userId, 'submit', T0);
      const held = claim('submit');
      expect(markSubmitStarted(db, held, T0 + 1)).toBe(true);
      const before = balance();
      expect(cancelGeneration(db, { generationId: id, userId, now: T0 + 2 })).toEqual({ kind: 'at-minimax' });
      expect(row(id)).toMatchObject({ status: 'queued', step: 'submit', refunded: 0, locked_by: 'worker-a' });
      expect(balance()).toBe(before);
      expect(refunds(id)).toBe(0);
    });

    it('refuses after an interrupted submission too: MiniMax may hold a task for it', () => {
      const id = seedGeneration(db, config, userId, 'submit', T0);
      markSubmitStarted(db, claim('submit'), T0 + 1);
      // The worker crashed in the create call; its lease lapsed and nobody holds the row.
      db.prepare('UPDATE generations SET locked_until = NULL, locked_by = NULL WHERE id = ?').run(id);
      expect(cancelGeneration(db, { generationId: id, userId, now: T0 + 2 })).toEqual({ kind: 'at-minimax' });
      expect(row(id)).toMatchObject({ status: 'queued', refunded: 0 });
    });

    it('cancel during the prompt step: the prepared prompt is not saved and the row stays failed', async () => {
      const id = seedGeneration(db, config, userId, 'prepare', T0);
      const held = claim('prepare');
      expect(cancelGeneration(db, { generationId: id, userId, now: T0 + 1 }).kind).toBe('canceled');
      expect(savePreparedPrompt(db, held, PREPARED_PROMPT, T0 + 2)).toBe(false);
      expect(row(id)).toMatchObject({ status: 'failed', step: 'done', prompt_final: null });
      expect(claimGeneration(db, { lane: 'submit', now: T0 + 120_000, leaseMs: 1000, workerId: 'worker-b' })).toBeNull();
      expect(refunds(id)).toBe(1);
      expect(await findLedgerMismatches(db)).toEqual([]);
    });
  });
});

describe('the status view’s `cancellable`', () => {
  const viewer = () => ({ id: userId, role: 'user' }) as User;
  const admin = { id: 'usr_admin', role: 'admin' } as User;
  const cancellable = (id: string, who: User = viewer()) => getGenerationView(db, id, who, 'ru', T0 + 1)!.cancellable;
  /** Each state the cancel's guard decides on, made the way the worker makes it. */
  const states: Array<[string, boolean, () => string]> = [
    ['waiting for its prompt', true, () => seedGeneration(db, config, userId, 'prepare', T0)],
    ['in its prompt step', true, () => {
      const id = seedGeneration(db, config, userId, 'prepare', T0);
      claim('prepare');
      return id;
    }],
    ['waiting to be sent', true, () => seedGeneration(db, config, userId, 'submit', T0)],
    ['held by the worker before its create call', true, () => {
      const id = seedGeneration(db, config, userId, 'submit', T0);
      claim('submit');
      return id;
    }],
    ['in its create call', false, () => {
      const id = seedGeneration(db, config, userId, 'submit', T0);
      markSubmitStarted(db, claim('submit'), T0);
      return id;
    }],
    ['after an interrupted create call', false, () => {
      const id = seedGeneration(db, config, userId, 'submit', T0);
      markSubmitStarted(db, claim('submit'), T0);
      db.prepare('UPDATE generations SET locked_until = NULL, locked_by = NULL WHERE id = ?').run(id);
      return id;
    }],
    ['rendering at MiniMax', false, () => seedGeneration(db, config, userId, 'poll', T0)],
    ['watched after a stuck failure', false, () => seedGeneration(db, config, userId, 'watching', T0)],
    ['delivered', false, () => {
      const id = seedGeneration(db, config, userId, 'download', T0);
      markGenerationSucceeded(db, claim('download'), { relativePath: 'v.mp4', bytes: 1 }, T0);
      return id;
    }],
    ['cancelled already', false, () => {
      const id = seedGeneration(db, config, userId, 'prepare', T0);
      cancelGeneration(db, { generationId: id, userId, now: T0 });
      return id;
    }],
  ];

  it.each(states)('%s: %s, and the cancel then does what it said', (_, expected, make) => {
    const id = make();
    expect(cancellable(id)).toBe(expected);
    const outcome = cancelGeneration(db, { generationId: id, userId, now: T0 + 2 });
    expect(outcome.kind === 'canceled' && outcome.refundedNow).toBe(expected);
    expect(cancellable(id)).toBe(false);
  });

  it('is the owner’s: an admin may look, but not cancel', () => {
    const id = seedGeneration(db, config, userId, 'prepare', T0);
    expect(cancellable(id)).toBe(true);
    expect(cancellable(id, admin)).toBe(false);
  });
});
