import type { Config } from '../../src/lib/config.ts';
import type { Db } from '../../src/lib/db/index.ts';
import { createGeneration } from '../../src/lib/generation/create.ts';
import {
  claimGeneration,
  failGeneration,
  markDownloadReady,
  markSubmitted,
  savePreparedPrompt,
  type Lane,
  type QueuedGeneration,
} from '../../src/lib/generation/queue.ts';
import type { PreparedPrompt } from '../../src/lib/prompt/types.ts';

/**
 * Named fixtures for tests that drive the generation queue's functions on a database
 * directly: a generation brought to a given step through the same guarded writes the
 * worker uses (every claim taken on the way is released). Its owner comes from `seedUser`.
 */

export const PREPARED_PROMPT: PreparedPrompt = {
  mode: 'prompt',
  cinematic: 'A bottle on a table.',
  director: 'A bottle on a table [Push in].',
  cameraCommands: ['Push in'],
  finalPrompt: 'A bottle on a table [Push in].',
  template: null,
  alternatives: [],
  templateFits: false,
  fallbacks: [],
  stages: [],
};

/**
 * Where a generation can stand in the queue: a live step, or `watching` — failed as stuck
 * (refunded) and still watched for a late success, at the poll or the download step.
 */
export type QueueStage = 'prepare' | 'submit' | 'poll' | 'download' | 'watching' | 'watching-download';

/** The worker lane that claims a generation at `stage`. */
export function laneOf(stage: QueueStage): Lane {
  return stage === 'watching' || stage === 'watching-download' ? 'late' : stage;
}

/** A one-credit generation of `userId`, moved to `stage` and left unleased and due at `now`. */
export async function seedGeneration(db: Db, config: Config, userId: string, stage: QueueStage, now: number): Promise<string> {
  const { generationId: id } = await createGeneration({
    db,
    config,
    userId,
    body: { prompt: 'Флакон на столе', duration: 6, mode: 'prompt' },
    idempotencyKey: null,
    now,
  });
  const take = async (lane: Lane): Promise<QueuedGeneration> => {
    const claim = await claimGeneration(db, { lane, now, leaseMs: 1000, workerId: 'seed' });
    if (claim?.id !== id) throw new Error(`seedGeneration: could not claim ${id} in the ${lane} lane`);
    return claim;
  };
  if (stage === 'prepare') return id;
  await savePreparedPrompt(db, await take('prepare'), PREPARED_PROMPT, now);
  if (stage === 'submit') return id;
  await markSubmitted(db, await take('submit'), { jobId: `task-${id}`, model: 'm', resolution: '768P', nextPollAt: now }, now);
  if (stage === 'poll') return id;
  if (stage === 'watching' || stage === 'watching-download') {
    await failGeneration(db, id, { stage: 'STUCK_GENERATION', code: 'STUCK', message: 'no result', attempt: null, keepWatching: true }, now);
    if (stage === 'watching') return id;
    await markDownloadReady(db, await take('late'), { fileId: 'file-1', width: 1, height: 1 }, now);
    return id;
  }
  await markDownloadReady(db, await take('poll'), { fileId: 'file-1', width: 1, height: 1 }, now);
  return id;
}
