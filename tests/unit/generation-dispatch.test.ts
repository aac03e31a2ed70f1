import { beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/lib/config.ts';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { claimGenerationById, dispatchTargetOf, failGeneration, listDueUnleased } from '../../src/lib/generation/queue.ts';
import { seedUser } from '../helpers/fixtures.ts';
import { laneOf, seedGeneration, type QueueStage } from '../helpers/queue.ts';

/**
 * What a pg-boss job is sent for (pg-boss-worker.ts): the lane and time `dispatchTargetOf` reads
 * from the row MUST be where and when `claimGenerationById` can take it, or a job would spin on a
 * row it can never claim, or a generation would wait for a job nobody sends.
 */
const { config } = loadConfig({ NODE_ENV: 'test' });
const NOW = 1_000_000;

let db: Db;
let userId: string;

beforeEach(async () => {
  db = openDatabase(':memory:');
  migrate(db);
  userId = (await seedUser(db, { now: NOW, trialCredits: 20 })).id;
  await db.run(`INSERT INTO uploads (id, userId, path, mime, width, height, bytes, createdAt) VALUES ('upl_1', ?, 'users/x/uploads/upl_1.jpg', 'image/jpeg', 640, 480, 10, ?)`, [userId, NOW]);
});

const claimById = (id: string, lane: ReturnType<typeof laneOf>, now: number, workerId = 'job') =>
  claimGenerationById(db, id, { lane, now, leaseMs: 1000, workerId });

describe('dispatch targets', () => {
  const stages: QueueStage[] = ['prepare', 'submit', 'poll', 'download', 'watching', 'watching-download'];

  it.each(stages)('sends a %s generation to the lane that claims it, due when it is', async (stage) => {
    const id = await seedGeneration(db, config, userId, stage, NOW);
    const target = await dispatchTargetOf(db, id);
    expect(target).toEqual({ id, lane: laneOf(stage), at: NOW });
    expect(await listDueUnleased(db, NOW, 10)).toEqual([target]);
    for (const other of stages.map(laneOf).filter((lane) => lane !== target!.lane)) {
      expect(await claimById(id, other, NOW)).toBeNull();
    }
    expect(await claimById(id, target!.lane, NOW)).toMatchObject({ id });
  });

  it('sends a held generation for just after its lease, when a claim can take it', async () => {
    const id = await seedGeneration(db, config, userId, 'prepare', NOW);
    const held = await claimById(id, 'prepare', NOW, 'someone-else');
    const target = await dispatchTargetOf(db, id);
    expect(target).toEqual({ id, lane: 'prepare', at: NOW + 1000 + 1 });
    expect(await listDueUnleased(db, NOW, 10)).toEqual([]);
    expect(await claimById(id, 'prepare', target!.at - 1)).toBeNull();
    expect(await claimById(id, 'prepare', target!.at)).toMatchObject({ id, attempt: held!.attempt + 1 });
  });

  it('sends nothing for a finished generation', async () => {
    const id = await seedGeneration(db, config, userId, 'prepare', NOW);
    await failGeneration(db, id, { stage: 'QUEUE_PROCESSOR', code: 'X', message: 'x', attempt: null, keepWatching: false }, NOW);
    expect(await dispatchTargetOf(db, id)).toBeNull();
    expect(await dispatchTargetOf(db, 'gen_unknown')).toBeNull();
    expect(await listDueUnleased(db, NOW, 10)).toEqual([]);
  });

  it('lists due generations oldest first, up to the limit, and none that are not due yet', async () => {
    // The poll one first: seeding it claims whatever is due in its lanes.
    const second = await seedGeneration(db, config, userId, 'poll', NOW + 5);
    const first = await seedGeneration(db, config, userId, 'prepare', NOW);
    await seedGeneration(db, config, userId, 'prepare', NOW + 10);
    expect((await listDueUnleased(db, NOW + 5, 10)).map((t) => t.id)).toEqual([first, second]);
    expect((await listDueUnleased(db, NOW + 10, 1)).map((t) => t.id)).toEqual([first]);
  });
});
