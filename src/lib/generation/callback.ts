import type { Database } from '../db/database.ts';
import { callbackChallengeSchema, callbackPushSchema } from '../providers/minimax/schemas.ts';
import { expediteByJobId } from './queue.ts';

export type CallbackOutcome =
  | { kind: 'challenge'; challenge: string }
  /** A status push: `generationId` is null when the task is not ours (ignored). */
  | { kind: 'push'; taskId: string; generationId: string | null }
  | { kind: 'invalid' };

/**
 * `/minimax_callback`. The body is never trusted: a challenge is echoed, and a status push
 * only makes its generation due for a poll right away, where the worker asks MiniMax
 * itself (with our key) what the task's state is. A forged push therefore changes nothing
 * but the time of the next query; an unknown task id changes nothing at all.
 */
export async function handleMinimaxCallback(db: Database, body: unknown, now: number): Promise<CallbackOutcome> {
  const challenge = callbackChallengeSchema.safeParse(body);
  if (challenge.success) return { kind: 'challenge', challenge: challenge.data.challenge };
  const push = callbackPushSchema.safeParse(body);
  if (!push.success) return { kind: 'invalid' };
  const taskId = push.data.task_id;
  return { kind: 'push', taskId, generationId: await expediteByJobId(db, taskId, now) };
}
