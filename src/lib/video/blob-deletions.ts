import type { Database } from '../db/database.ts';
import { readRow } from '../db/row.ts';

/**
 * Files waiting to be deleted from storage (`blob_deletions`). A key is queued in the same
 * transaction that removes it from the row that named it, so the database never shows a file
 * as there while it is being deleted; then one process at a time deletes it. Claims work like
 * the export queue's: one conditional UPDATE, re-checked by PostgreSQL on the row it takes, so
 * two sweepers never delete the same key; a lease lets another process take over a key whose
 * sweeper died mid-delete.
 */

export interface QueuedBlob {
  key: string;
  /** The generation the file belonged to (for the log). */
  generationId: string | null;
}

export interface BlobDeletionClaim extends QueuedBlob {
  /** Times it has been claimed, this claim included. */
  attempts: number;
}

/** Rows per INSERT: three parameters each, well under either engine's limit. */
const QUEUE_CHUNK = 200;

/** Queues keys for deletion; a key already queued stays as it is. Call inside the transaction that drops the keys from their rows. */
export async function queueBlobDeletions(tx: Database, blobs: QueuedBlob[], now: number): Promise<void> {
  for (let start = 0; start < blobs.length; start += QUEUE_CHUNK) {
    const chunk = blobs.slice(start, start + QUEUE_CHUNK);
    await tx.run(
      `INSERT INTO blob_deletions (blob_key, generationId, queuedAt) VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')}
       ON CONFLICT (blob_key) DO NOTHING`,
      chunk.flatMap((blob) => [blob.key, blob.generationId, now]),
    );
  }
}

export interface ClaimBlobDeletionsOptions {
  /** Names this claim; only it may settle the keys it took. */
  owner: string;
  now: number;
  /** How long the keys are this claim's; a sweeper that dies leaves them to a pass after it. */
  leaseMs: number;
  limit: number;
}

/** Takes up to `limit` keys no other sweeper holds. */
export async function claimBlobDeletions(db: Database, options: ClaimBlobDeletionsOptions): Promise<BlobDeletionClaim[]> {
  // The outer `claimed_until <= @now` MUST stay: on PostgreSQL two sweepers can pick the same
  // keys in the subquery, and the one that waits re-checks only the UPDATE's own WHERE.
  const rows = await db.all(
    `UPDATE blob_deletions SET claimed_by = @owner, claimed_until = @until, attempts = attempts + 1
     WHERE blob_key IN (SELECT blob_key FROM blob_deletions WHERE claimed_until <= @now ORDER BY claimed_until, blob_key LIMIT @limit)
       AND claimed_until <= @now
     RETURNING blob_key, generationId, attempts`,
    { owner: options.owner, until: options.now + options.leaseMs, now: options.now, limit: options.limit },
  );
  return rows.map((row) => {
    const r = readRow('blob_deletions', row);
    return { key: r.text('blob_key'), generationId: r.textOrNull('generationId'), attempts: r.int('attempts') };
  });
}

/** The file is gone: its key leaves the queue (only for the claim that holds it). */
export async function completeBlobDeletion(db: Database, owner: string, key: string): Promise<boolean> {
  const { changes } = await db.run('DELETE FROM blob_deletions WHERE blob_key = ? AND claimed_by = ?', [key, owner]);
  return changes === 1;
}

/**
 * The delete failed: the key stays queued with the error and is free for the next pass from
 * `retryAt` on (the pass that failed does not take it again).
 */
export async function releaseBlobDeletion(db: Database, owner: string, key: string, failure: { error: string; retryAt: number }): Promise<boolean> {
  const { changes } = await db.run(
    'UPDATE blob_deletions SET claimed_by = NULL, claimed_until = ?, last_error = ? WHERE blob_key = ? AND claimed_by = ?',
    [failure.retryAt, failure.error.slice(0, 1000), key, owner],
  );
  return changes === 1;
}

/** Keys still waiting to be deleted (the operator's view: a number that should come back to zero). */
export async function countQueuedBlobDeletions(db: Database): Promise<number> {
  return (await db.value<number>('SELECT COUNT(*) FROM blob_deletions')) ?? 0;
}
