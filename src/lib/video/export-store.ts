import { inTransaction, type Database } from '../db/database.ts';
import { readRow } from '../db/row.ts';
import { EXPORT_FITS, EXPORT_TARGET_IDS, type ExportFit, type ExportTargetId } from './formats.ts';

/**
 * The `video_exports` table is the coordination of exports across processes: one row per
 * (video, target, fit, kind), claimed with a lease and fenced by `attempt` like the generation
 * queue, so one ffmpeg runs per export however many requests and processes ask for it, and a
 * crashed process's export is claimed again once its lease lapses.
 */

export const EXPORT_KINDS = ['video', 'cover'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];
export const EXPORT_STATES = ['pending', 'running', 'done', 'failed'] as const;
export type ExportState = (typeof EXPORT_STATES)[number];

export interface ExportKey {
  generationId: string;
  target: ExportTargetId;
  fit: ExportFit;
  kind: ExportKind;
}

export interface VideoExport extends ExportKey {
  id: number;
  state: ExportState;
  path: string | null;
  bytes: number | null;
  attempt: number;
  errorCode: string | null;
  requestedAt: number;
  finishedAt: number | null;
}

function rowToExport(row: Record<string, unknown>): VideoExport {
  const r = readRow('video_exports', row);
  return {
    id: r.int('id'),
    generationId: r.text('generationId'),
    target: r.oneOf('target', EXPORT_TARGET_IDS),
    fit: r.oneOf('fit', EXPORT_FITS),
    kind: r.oneOf('kind', EXPORT_KINDS),
    state: r.oneOf('state', EXPORT_STATES),
    path: r.textOrNull('path'),
    bytes: r.intOrNull('bytes'),
    attempt: r.int('attempt'),
    errorCode: r.textOrNull('error_code'),
    requestedAt: r.int('requestedAt'),
    finishedAt: r.intOrNull('finishedAt'),
  };
}

const COLUMNS = 'id, generationId, target, fit, kind, state, path, bytes, attempt, error_code, requestedAt, finishedAt';

export async function findExport(db: Database, key: ExportKey): Promise<VideoExport | null> {
  const row = await db.get(`SELECT ${COLUMNS} FROM video_exports WHERE generationId = ? AND target = ? AND fit = ? AND kind = ?`, [
    key.generationId,
    key.target,
    key.fit,
    key.kind,
  ]);
  return row ? rowToExport(row) : null;
}

export interface RequestExportOptions {
  now: number;
  /** A failed export is tried again by a request made this long after it failed. */
  retryFailedAfterMs: number;
  /** The path of the finished export when its file was found gone from the store (looked up beforehand): it is made again. */
  missingFile?: string | null;
  /**
   * At most `max` exports of one owner's videos pending or running at once: each is an ffmpeg
   * run of up to minutes, so one account clicking through every target of every video must
   * not make everyone else wait behind it.
   */
  ownerLimit?: { userId: string; max: number };
}

/** `busy`: the owner already has `ownerLimit.max` exports being made; nothing was queued. */
export type RequestedExport = VideoExport | 'busy';

/**
 * The export for `key`, asked for now: created as pending the first time; a request while it
 * is pending or running joins it (no second ffmpeg); a failed one is queued again after a pause;
 * a finished one whose file went missing is made again.
 */
export function requestExport(db: Database, key: ExportKey, options: RequestExportOptions): Promise<RequestedExport> {
  return inTransaction(db, async (tx) => {
    const current = await findExport(tx, key);
    const again =
      current !== null &&
      ((current.state === 'failed' && (current.finishedAt ?? 0) + options.retryFailedAfterMs <= options.now) ||
        (current.state === 'done' && current.path !== null && current.path === options.missingFile));
    if (current && !again) return current;
    if (options.ownerLimit && (await liveExportsOfOwner(tx, options.ownerLimit.userId)) >= options.ownerLimit.max) return 'busy';
    if (!current) {
      await tx.run(
        `INSERT INTO video_exports (generationId, target, fit, kind, state, requestedAt, updatedAt)
         VALUES (?, ?, ?, ?, 'pending', ?, ?)`,
        [key.generationId, key.target, key.fit, key.kind, options.now, options.now],
      );
    } else {
      await tx.run(
        `UPDATE video_exports SET state = 'pending', path = NULL, bytes = NULL, error_code = NULL, error_message = NULL,
           requestedAt = ?, updatedAt = ? WHERE id = ? AND state = ?`,
        [options.now, options.now, current.id, current.state],
      );
    }
    return (await findExport(tx, key))!;
  });
}

/** Exports of this user's videos that are waiting for or running ffmpeg. */
export async function liveExportsOfOwner(db: Database, userId: string): Promise<number> {
  return (await db.value<number>(
    `SELECT COUNT(*) FROM video_exports e INDEXED BY idx_video_exports_live JOIN generations g ON g.id = e.generationId
     WHERE e.state IN ('pending', 'running') AND g.userId = ?`,
    [userId],
  ))!;
}

export interface ExportClaim extends VideoExport {
  /** The fence of every later write of this claim. */
  attempt: number;
}

export interface ClaimExportOptions {
  workerId: string;
  now: number;
  leaseMs: number;
  /** Claims per export before it is failed (a crash loop, e.g. ffmpeg killing the process). */
  maxAttempts: number;
}

/**
 * Takes the oldest pending export, or a running one whose lease lapsed (its process is gone),
 * in one statement, so two processes never take the same row. One that has used its attempts
 * is failed instead of being tried forever.
 */
export async function claimExport(db: Database, options: ClaimExportOptions): Promise<ExportClaim | null> {
  // `state IN ('pending', 'running')` repeats the partial index's own condition, which is what
  // lets SQLite use idx_video_exports_live here instead of scanning every finished export.
  await db.run(
    `UPDATE video_exports SET state = 'failed', error_code = 'EXPORT_ATTEMPTS', error_message = 'stopped after repeated interruptions',
       finishedAt = @now, locked_by = NULL, locked_until = NULL, updatedAt = @now
     WHERE state IN ('pending', 'running') AND state = 'running' AND locked_until < @now AND attempt >= @maxAttempts`,
    { now: options.now, maxAttempts: options.maxAttempts },
  );
  // The claim checks its conditions again on the row it updates: on PostgreSQL two processes
  // can pick the same id, and the second re-reads only the UPDATE's own WHERE (queue.ts).
  const row = await db.get(
    `UPDATE video_exports SET state = 'running', attempt = attempt + 1, locked_by = @workerId, locked_until = @leaseUntil,
       startedAt = @now, updatedAt = @now
     WHERE id = (SELECT id FROM video_exports INDEXED BY idx_video_exports_live
                 WHERE state IN ('pending', 'running') AND (state = 'pending' OR locked_until < @now)
                 ORDER BY requestedAt LIMIT 1)
       AND state IN ('pending', 'running') AND (state = 'pending' OR locked_until < @now)
     RETURNING ${COLUMNS}`,
    { workerId: options.workerId, now: options.now, leaseUntil: options.now + options.leaseMs },
  );
  return row ? rowToExport(row) : null;
}

type Claim = Pick<ExportClaim, 'id' | 'attempt'>;

/** Keeps the lease while ffmpeg runs; false once another process has claimed the row. */
export async function extendExportLease(db: Database, claim: Claim, until: number): Promise<boolean> {
  const { changes } = await db.run(`UPDATE video_exports SET locked_until = ? WHERE id = ? AND attempt = ? AND state = 'running'`, [
    until,
    claim.id,
    claim.attempt,
  ]);
  return changes === 1;
}

export async function finishExport(db: Database, claim: Claim, file: { path: string; bytes: number }, now: number): Promise<boolean> {
  const { changes } = await db.run(
    `UPDATE video_exports SET state = 'done', path = ?, bytes = ?, finishedAt = ?, locked_by = NULL, locked_until = NULL,
       error_code = NULL, error_message = NULL, updatedAt = ?
     WHERE id = ? AND attempt = ? AND state = 'running'`,
    [file.path, file.bytes, now, now, claim.id, claim.attempt],
  );
  return changes === 1;
}

export async function failExport(db: Database, claim: Claim, error: { code: string; message: string }, now: number): Promise<boolean> {
  const { changes } = await db.run(
    `UPDATE video_exports SET state = 'failed', error_code = ?, error_message = ?, finishedAt = ?, locked_by = NULL,
       locked_until = NULL, updatedAt = ?
     WHERE id = ? AND attempt = ? AND state = 'running'`,
    [error.code, error.message.slice(0, 1000), now, now, claim.id, claim.attempt],
  );
  return changes === 1;
}

/** Gives a claimed export back without counting it as failed (shutdown). */
export async function releaseExport(db: Database, claim: Claim, now: number): Promise<boolean> {
  const { changes } = await db.run(
    `UPDATE video_exports SET state = 'pending', locked_by = NULL, locked_until = NULL, updatedAt = ? WHERE id = ? AND attempt = ? AND state = 'running'`,
    [now, claim.id, claim.attempt],
  );
  return changes === 1;
}
