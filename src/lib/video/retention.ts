import { inTransaction, type Database } from '../db/database.ts';
import type { RowReader } from '../db/row.ts';
import { tn } from '../i18n/plural.ts';
import type { Locale } from '../i18n/index.ts';
import { queueBlobDeletions, type QueuedBlob } from './blob-deletions.ts';

/**
 * Retention (VIDEO_RETENTION_DAYS): a video delivered that many days ago loses its files — the
 * original, its poster and its marketplace exports — and its generation says so to the owner.
 * The generation itself stays (history, prompts, the ledger's hold and charge are untouched).
 *
 * The photo it was made from (the upload and its cropped first frame) is kept: it is the
 * seller's input, not the video; one upload can feed several generations, younger ones
 * among them (and the schema keeps an upload as long as a generation names it); it is what
 * the seller starts again from; and it is small next to a video. It also stands in as the
 * expired generation's picture in the history.
 */

export const DAY_MS = 24 * 60 * 60_000;

/** A video the sweep took away: when, and the setting it did so under. */
export interface VideoExpiry {
  at: number;
  days: number;
}

/** «Ролик удалён через N дней хранения» in the owner's language. */
export function expiredVideoMessage(locale: Locale, days: number): string {
  return tn(locale, 'ui.video.expired', days);
}

/** Reads `expiredAt` and `retention_days` of a generations row (both set together by `expireOldVideos`). */
export function expiryOf(r: RowReader): VideoExpiry | null {
  const at = r.intOrNull('expiredAt');
  return at === null ? null : { at, days: r.int('retention_days') };
}

export interface ExpireOptions {
  now: number;
  days: number;
  /** Generations expired in one call at most (the pass is bounded; the next call takes the rest). */
  limit: number;
}

export interface ExpiredBatch {
  generationIds: string[];
  /** Files queued for deletion (blob-deletions.ts). */
  queued: number;
}

/**
 * Expires up to `limit` videos delivered at least `days` days before `now`, oldest first: in
 * one transaction each generation is marked expired and loses its video and poster paths, its
 * finished exports are removed, and every one of those files is queued for deletion. Deleting
 * the files is the caller's next step (`claimBlobDeletions`). Nothing younger than `days` is
 * read, and a generation already expired is not taken again (its paths are gone).
 */
export function expireOldVideos(db: Database, options: ExpireOptions): Promise<ExpiredBatch> {
  const { now, days, limit } = options;
  return inTransaction(db, async (tx) => {
    // Repeats idx_generations_retention's own condition, so the search reads that index only.
    const due = await tx.all<{ id: string; video_path: string; poster_path: string | null }>(
      `SELECT id, video_path, poster_path FROM generations INDEXED BY idx_generations_retention
       WHERE status = 'success' AND video_path IS NOT NULL AND completedAt <= @cutoff
       ORDER BY completedAt LIMIT @limit`,
      { cutoff: now - days * DAY_MS, limit },
    );
    const expired: string[] = [];
    const blobs: QueuedBlob[] = [];
    for (const row of due) {
      // Guarded by the paths just read (a poster may have been recorded since, outside any
      // transaction): the keys queued below are exactly the ones this clears.
      const { changes } = await tx.run(
        `UPDATE generations SET expiredAt = @now, retention_days = @days, video_path = NULL, poster_path = NULL, updatedAt = @now
         WHERE id = @id AND status = 'success' AND video_path = @videoPath AND COALESCE(poster_path, '') = @posterPath`,
        { id: row.id, videoPath: row.video_path, posterPath: row.poster_path ?? '', now, days },
      );
      if (changes !== 1) continue;
      expired.push(row.id);
      blobs.push({ key: row.video_path, generationId: row.id });
      if (row.poster_path) blobs.push({ key: row.poster_path, generationId: row.id });
    }
    if (expired.length === 0) return { generationIds: [], queued: 0 };
    // The rest is one statement each, not one per generation: on PostgreSQL this transaction
    // holds the database's write lock (postgres.ts) while it runs.
    const ids = `(${expired.map(() => '?').join(', ')})`;
    await tx.run(
      `INSERT INTO generation_events (generationId, kind, detail, createdAt)
       SELECT id, 'expired', CAST(? AS TEXT), CAST(? AS BIGINT) FROM generations WHERE id IN ${ids}`,
      [`video files deleted after ${days} days of storage`, now, ...expired],
    );
    blobs.push(...(await dropFinishedExports(tx, `generationId IN ${ids}`, expired)));
    await queueBlobDeletions(tx, blobs, now);
    return { generationIds: expired, queued: blobs.length };
  });
}

/**
 * Exports of expired videos that were still being made when their video expired: once ffmpeg
 * has finished (or failed), the row goes and its file is queued for deletion. A running export
 * is left to its runner, which cannot start another from an expired video (it has no path).
 */
export function dropExportsOfExpiredVideos(db: Database, options: { now: number; limit: number }): Promise<number> {
  return inTransaction(db, async (tx) => {
    const blobs = await dropFinishedExports(
      tx,
      `id IN (SELECT e.id FROM video_exports e JOIN generations g ON g.id = e.generationId
              WHERE g.expiredAt IS NOT NULL AND e.state <> 'running' LIMIT ?)`,
      [options.limit],
    );
    await queueBlobDeletions(tx, blobs, options.now);
    return blobs.length;
  });
}

/** Deletes the export rows `where` names that no runner holds, returning their files. */
async function dropFinishedExports(tx: Database, where: string, params: unknown[]): Promise<QueuedBlob[]> {
  // `state <> 'running'` is checked on the row deleted: a runner may have claimed it meanwhile.
  const rows = await tx.all<{ generationId: string; path: string | null }>(
    `DELETE FROM video_exports WHERE ${where} AND state <> 'running' RETURNING generationId, path`,
    params,
  );
  return rows.filter((row) => row.path !== null).map((row) => ({ key: row.path!, generationId: row.generationId }));
}
