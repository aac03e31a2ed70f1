import type { Database } from '../db/database.ts';
import { inTransaction } from '../db/database.ts';
import { failGeneration } from './queue.ts';

/**
 * A user stops their own generation while nothing has gone to MiniMax yet (issue 16 §5):
 * it fails with the code USER_CANCELED and its credits come back at once, exactly once —
 * through `failGeneration`, whose guarded UPDATE and the ledger's unique `refund:<id>` are
 * the same as for every other failure. Past the point of no return (`markSubmitStarted`
 * wrote `submit_started_at` before calling MiniMax, or a task id is saved) it is refused:
 * MiniMax may already be rendering, and the usual rules (refund if it fails) apply.
 *
 * A worker holding the row meanwhile loses nothing: its next guarded write (the prepared
 * prompt, the submit mark) finds the row failed and changes nothing, so no call is made.
 * Not an operator alert: the seller chose it.
 */

export const USER_CANCEL = { stage: 'USER', code: 'USER_CANCELED', message: 'canceled by its owner before it reached MiniMax' } as const;

export type CancelOutcome =
  /** Failed now and refunded (or, asked again, already canceled by its owner: nothing changes). */
  | { kind: 'canceled'; refundedNow: boolean }
  /** Unknown, or someone else's. */
  | { kind: 'not-found' }
  /** Finished some other way (a video, or another failure). */
  | { kind: 'finished' }
  /** Already at MiniMax (or its create call may be under way). */
  | { kind: 'at-minimax' };

export async function cancelGeneration(db: Database, input: { generationId: string; userId: string; now: number }): Promise<CancelOutcome> {
  return inTransaction(db, async (tx): Promise<CancelOutcome> => {
    const row = await tx.get<{ userId: string; status: string; error_code: string | null }>(
      'SELECT userId, status, error_code FROM generations WHERE id = ?',
      [input.generationId],
    );
    if (!row || row.userId !== input.userId) return { kind: 'not-found' };
    const failed = await failGeneration(
      tx,
      input.generationId,
      { ...USER_CANCEL, attempt: null, keepWatching: false, beforeSubmitOnly: true },
      input.now,
    );
    if (failed) return { kind: 'canceled', refundedNow: true };
    if (row.status === 'failed' && row.error_code === USER_CANCEL.code) return { kind: 'canceled', refundedNow: false };
    if (row.status === 'success' || row.status === 'failed') return { kind: 'finished' };
    return { kind: 'at-minimax' };
  });
}
