import { beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { findLedgerMismatches } from '../../src/lib/billing/ledger.ts';
import {
  claimGeneration,
  expediteByJobId,
  extendLease,
  failGeneration,
  markDownloadReady,
  markGenerationSucceeded,
  markSubmitStarted,
  markSubmitted,
  listLeaseHolders,
  releaseClaim,
  releaseLeasesOf,
  savePreparedPrompt,
  schedulePoll,
  scheduleRetry,
  stopWatching,
  type QueuedGeneration,
} from '../../src/lib/generation/queue.ts';
import { laneOf, PREPARED_PROMPT, seedGeneration, type QueueStage } from '../helpers/queue.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';

/**
 * The attempt fence (DESIGN.md §2): a worker whose lease lapsed and whose row was claimed
 * again must not settle anything, nor release or shorten the new holder's lease. Every
 * write a claim holder makes runs here twice: as the stale attempt (it changes nothing at
 * all) and as the current one (it lands). The worker's lease heartbeat (`extendLease`) is
 * fenced the same way (below); `generation-heartbeat.test.ts` checks the worker running it.
 */

const { config } = loadConfig({ NODE_ENV: 'test' });
const LEASE_MS = 1000;
const T0 = 1_000_000;
/** The stale worker's lease has lapsed; a second worker holds the row now. */
const T_FRESH = T0 + LEASE_MS + 1;
/** When both workers try to write. */
const T_WRITE = T_FRESH + 100;

type Claim = Pick<QueuedGeneration, 'id' | 'attempt'>;

interface QueueWrite {
  name: string;
  at: QueueStage;
  write(db: Db, claim: Claim, now: number): Promise<boolean>;
  /** Columns of the row after the current holder's write. */
  lands: Record<string, unknown>;
  /** Change of the owner's balance by the current holder's write (refunds). */
  balanceDelta?: number;
  /** Change of the owner's count of delivered videos. */
  usedDelta?: number;
  /** Events the current write records (the generation's history); none for bookkeeping writes. */
  events?: string[];
}

const ERROR = { stage: 'MINIMAX_CALL', code: 'HTTP_500', message: 'gateway' };
const fail = async (db: Db, claim: Claim, now: number) =>
  await failGeneration(db, claim.id, { ...ERROR, attempt: claim.attempt, keepWatching: false }, now);
const released = { locked_until: null, locked_by: null };

const WRITES: QueueWrite[] = [
  {
    name: 'savePreparedPrompt',
    at: 'prepare',
    write: (db, claim, now) => savePreparedPrompt(db, claim, PREPARED_PROMPT, now),
    lands: { status: 'queued', step: 'submit', prompt_final: PREPARED_PROMPT.finalPrompt, ...released },
    events: ['prepared'],
  },
  {
    name: 'markSubmitStarted',
    at: 'submit',
    write: (db, claim, now) => markSubmitStarted(db, claim, now),
    // Written before the create call: the holder keeps its lease.
    lands: { step: 'submit', submit_started_at: T_WRITE, locked_by: 'fresh' },
  },
  {
    name: 'markSubmitted',
    at: 'submit',
    write: (db, claim, now) => markSubmitted(db, claim, { jobId: 'task-new', model: 'm', resolution: '768P', nextPollAt: now + 50 }, now),
    lands: { status: 'processing', step: 'poll', minimax_job_id: 'task-new', next_attempt_at: T_WRITE + 50, ...released },
    events: ['submitted'],
  },
  {
    name: 'schedulePoll',
    at: 'poll',
    write: (db, claim, now) => schedulePoll(db, claim, { minimaxStatus: 'Processing', askedAt: now, nextAt: now + 50 }, now),
    lands: { minimax_status: 'Processing', last_polled_at: T_WRITE, next_attempt_at: T_WRITE + 50, ...released },
  },
  {
    name: 'markDownloadReady',
    at: 'poll',
    write: (db, claim, now) => markDownloadReady(db, claim, { fileId: 'file-new', width: 2, height: 3 }, now),
    lands: { status: 'processing', step: 'download', minimax_file_id: 'file-new', ...released },
    events: ['minimax_success'],
  },
  {
    name: 'markDownloadReady (late success of a stuck generation)',
    at: 'watching',
    write: (db, claim, now) => markDownloadReady(db, claim, { fileId: 'file-new', width: 2, height: 3 }, now),
    lands: { status: 'failed', step: 'download', minimax_file_id: 'file-new', ...released },
    events: ['minimax_success'],
  },
  {
    name: 'markGenerationSucceeded',
    at: 'download',
    write: (db, claim, now) => markGenerationSucceeded(db, claim, { relativePath: 'users/x/videos/a.mp4', bytes: 10 }, now),
    lands: { status: 'success', step: 'done', charged: 1, refunded: 0, video_path: 'users/x/videos/a.mp4', ...released },
    usedDelta: 1,
    events: ['succeeded'],
  },
  {
    name: 'markGenerationSucceeded (delivered free after a refund)',
    at: 'watching-download',
    write: (db, claim, now) => markGenerationSucceeded(db, claim, { relativePath: 'users/x/videos/a.mp4', bytes: 10 }, now),
    lands: { status: 'success', step: 'done', charged: 0, refunded: 1, ...released },
    usedDelta: 1,
    events: ['succeeded'],
  },
  ...(['prepare', 'submit', 'poll', 'download', 'watching'] as const).map(
    (at): QueueWrite => ({
      name: `scheduleRetry (${at})`,
      at,
      write: (db, claim, now) => scheduleRetry(db, claim, ERROR, 500, now),
      lands: { retry_count: 1, next_attempt_at: T_WRITE + 500, ...released },
      events: ['retry'],
    }),
  ),
  ...(['prepare', 'submit', 'poll', 'download'] as const).map(
    (at): QueueWrite => ({
      name: `failGeneration (${at})`,
      at,
      write: fail,
      lands: { status: 'failed', step: 'done', refunded: 1, charged: 0, error_code: 'HTTP_500', ...released },
      balanceDelta: 1,
      events: ['failed'],
    }),
  ),
  {
    name: 'stopWatching',
    at: 'watching',
    write: (db, claim, now) => stopWatching(db, claim.id, claim.attempt, 'MiniMax failed the task late', now),
    lands: { status: 'failed', step: 'done', ...released },
    events: ['watch_stopped'],
  },
  ...(['prepare', 'submit', 'poll', 'download', 'watching'] as const).map(
    (at): QueueWrite => ({
      name: `releaseClaim (${at})`,
      at,
      write: (db, claim, now) => releaseClaim(db, claim, now),
      lands: { next_attempt_at: T_WRITE, ...released },
    }),
  ),
];

let db: Db;
let userId: string;

beforeEach(async () => {
  db = openDatabase(':memory:');
  migrate(db);
  userId = await seedUserWithPhoto(db, { now: T0 });
});

/** Everything a queue write may touch: the row, the owner's money and counters, the ledger, the event log. */
async function snapshot(id: string) {
  return {
    row: (await db.get('SELECT * FROM generations WHERE id = ?', [id])) as Record<string, unknown>,
    user: (await db.get('SELECT generation_balance, generation_used FROM users WHERE id = ?', [userId])) as {
      generation_balance: number;
      generation_used: number;
    },
    ledger: await db.all('SELECT * FROM credit_ledger ORDER BY id'),
    events: await db.all('SELECT * FROM generation_events WHERE generationId = ? ORDER BY id', [id]),
  };
}

/** A row claimed by a worker whose lease then lapsed, and claimed again by `fresh`. */
async function contendedRow(at: QueueStage): Promise<{ id: string; stale: Claim; fresh: Claim }> {
  const id = await seedGeneration(db, config, userId, at, T0);
  const lane = laneOf(at);
  const stale = await claimGeneration(db, { lane, now: T0, leaseMs: LEASE_MS, workerId: 'stale' });
  const fresh = await claimGeneration(db, { lane, now: T_FRESH, leaseMs: LEASE_MS, workerId: 'fresh' });
  expect(stale?.id).toBe(id);
  expect(fresh).toMatchObject({ id, attempt: stale!.attempt + 1 });
  return { id, stale: stale!, fresh: fresh! };
}

describe('queue writes behind the attempt fence', () => {
  it.each(WRITES)('$name: the stale attempt changes nothing, the current one lands', async ({ at, write, lands, balanceDelta = 0, usedDelta = 0, events = [] }) => {
    const { id, stale, fresh } = await contendedRow(at);
    const before = await snapshot(id);
    expect(before.row).toMatchObject({ locked_by: 'fresh', locked_until: T_FRESH + LEASE_MS });

    expect(await write(db, stale, T_WRITE)).toBe(false);
    expect(await snapshot(id)).toEqual(before);

    expect(await write(db, fresh, T_WRITE)).toBe(true);
    const after = await snapshot(id);
    expect(after.row).toMatchObject(lands);
    expect(after.user.generation_balance).toBe(before.user.generation_balance + balanceDelta);
    expect(after.user.generation_used).toBe(before.user.generation_used + usedDelta);
    expect(after.events.slice(before.events.length).map((e) => (e as { kind: string }).kind)).toEqual(events);
    if (balanceDelta > 0) expect(after.ledger.at(-1)).toMatchObject({ kind: 'refund', delta: balanceDelta, reference: `refund:${id}` });
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('fails a free generation without a refund line (there was no hold)', async () => {
    const id = await seedGeneration(db, config, userId, 'poll', T0);
    await db.run('UPDATE generations SET cost = 0 WHERE id = ?', [id]);
    const claim = (await claimGeneration(db, { lane: 'poll', now: T0, leaseMs: LEASE_MS, workerId: 'w' }))!;
    const before = await snapshot(id);
    expect(await fail(db, claim, T_WRITE)).toBe(true);
    const after = await snapshot(id);
    expect(after.row).toMatchObject({ status: 'failed', refunded: 1 });
    expect(after.ledger).toEqual(before.ledger);
    expect(after.user).toEqual(before.user);
  });

  it('extends only the lease of the current attempt, while its holder has it: not after the step gave it back', async () => {
    const { id, stale, fresh } = await contendedRow('poll');
    const before = await snapshot(id);
    expect(await extendLease(db, stale, 'stale', T_WRITE + LEASE_MS)).toBe(false);
    expect(await snapshot(id)).toEqual(before);
    expect(await extendLease(db, fresh, 'fresh', T_WRITE + LEASE_MS)).toBe(true);
    expect((await snapshot(id)).row).toMatchObject({ locked_until: T_WRITE + LEASE_MS, locked_by: 'fresh' });

    // The step settles and gives the row back; an extension still on its way lands after that.
    expect(await releaseClaim(db, fresh, T_WRITE)).toBe(true);
    const released = await snapshot(id);
    expect(await extendLease(db, fresh, 'fresh', T_WRITE + 2 * LEASE_MS)).toBe(false);
    expect(await snapshot(id)).toEqual(released);
  });

  it('extends the lease of a step whose generation was failed from outside while it runs', async () => {
    const { id, fresh } = await contendedRow('download');
    expect(await failGeneration(db, id, { ...ERROR, attempt: null, keepWatching: true }, T_WRITE)).toBe(true);
    expect(await extendLease(db, fresh, 'fresh', T_WRITE + LEASE_MS)).toBe(true);
    expect((await snapshot(id)).row).toMatchObject({ status: 'failed', locked_until: T_WRITE + LEASE_MS, locked_by: 'fresh' });
  });

  it('drops the leases of holders known to be gone, and only theirs', async () => {
    const gone = await seedGeneration(db, config, userId, 'poll', T0);
    await claimGeneration(db, { lane: 'poll', now: T0, leaseMs: LEASE_MS, workerId: 'host:1:gone' });
    const alive = await seedGeneration(db, config, userId, 'submit', T0);
    await claimGeneration(db, { lane: 'submit', now: T0, leaseMs: LEASE_MS, workerId: 'host:2:alive' });
    expect((await listLeaseHolders(db)).sort()).toEqual(['host:1:gone', 'host:2:alive']);
    expect(await releaseLeasesOf(db, [], T0)).toBe(0);
    expect(await releaseLeasesOf(db, ['host:1:gone'], T0)).toBe(1);
    expect((await snapshot(gone)).row).toMatchObject({ locked_by: null, locked_until: null });
    expect((await snapshot(alive)).row).toMatchObject({ locked_by: 'host:2:alive' });
    expect(await listLeaseHolders(db)).toEqual(['host:2:alive']);
  });
});

describe('a status push while a poll is asking MiniMax', () => {
  const POLL_MS = 10_000;

  async function pollInFlight(): Promise<{ id: string; claim: Claim; jobId: string }> {
    const id = await seedGeneration(db, config, userId, 'poll', T0);
    const claim = await claimGeneration(db, { lane: 'poll', now: T0, leaseMs: LEASE_MS, workerId: 'poller' });
    expect(claim?.id).toBe(id);
    const jobId = (await db.value<string>('SELECT minimax_job_id FROM generations WHERE id = ?', [id]))!;
    return { id, claim: claim!, jobId };
  }

  const nextPollOf = async (id: string) => db.value<number>('SELECT next_attempt_at FROM generations WHERE id = ?', [id]);

  it('a push that came after the poll asked makes the next poll now, not an interval later', async () => {
    const { id, claim, jobId } = await pollInFlight();
    const askedAt = T0 + 10;
    // MiniMax answered "processing"; meanwhile its push says the task is done.
    expect(await expediteByJobId(db, jobId, askedAt + 5)).toBe(id);
    expect(await schedulePoll(db, claim, { minimaxStatus: 'Processing', askedAt, nextAt: askedAt + 20 + POLL_MS }, askedAt + 20)).toBe(true);
    expect(await nextPollOf(id)).toBe(askedAt + 20);
  });

  it('a push from before the poll asked (its news already in the answer) leaves the interval', async () => {
    const { id, claim, jobId } = await pollInFlight();
    const askedAt = T0 + 10;
    expect(await expediteByJobId(db, jobId, askedAt - 5)).toBe(id);
    expect(await schedulePoll(db, claim, { minimaxStatus: 'Processing', askedAt, nextAt: askedAt + 20 + POLL_MS }, askedAt + 20)).toBe(true);
    expect(await nextPollOf(id)).toBe(askedAt + 20 + POLL_MS);
  });
});
