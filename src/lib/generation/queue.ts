import { inTransaction, type Database } from '../db/database.ts';
import { refundHold } from './credits.ts';
import type { PreparedPrompt } from '../prompt/types.ts';
import { recordGenerationEvent } from './events.ts';
import { readRow } from '../db/row.ts';
import {
  DURATIONS,
  GENERATION_MODES,
  GENERATION_STATUSES,
  GENERATION_STEPS,
  type Duration,
  type GenerationMode,
  type GenerationStatus,
  type GenerationStep,
} from '../model.ts';

/**
 * The generations table is the queue (DESIGN.md §2). A worker claims a row by taking a
 * lease and bumping `attempt`; every later write for that claim is guarded by
 * `WHERE id = ? AND attempt = ?`, so a worker whose lease lapsed (and whose row was
 * claimed again) cannot settle anything. Money moves only in the guarded transactions
 * below: `markGenerationSucceeded` (hold becomes final) and `failGeneration` (refund once).
 */

export interface QueuedGeneration {
  id: string;
  userId: string;
  status: GenerationStatus;
  step: GenerationStep;
  mode: GenerationMode;
  duration: Duration;
  cost: number;
  prompt: string;
  promptFinal: string | null;
  imagePath: string | null;
  /** Decided once, by the prepare step: a MiniMax template task, or null for a plain video task. */
  template: TemplateTask | null;
  jobId: string | null;
  fileId: string | null;
  attempt: number;
  retryCount: number;
  submitStartedAt: number | null;
  submittedAt: number | null;
  refunded: boolean;
  charged: boolean;
  createdAt: number;
  /** When it succeeded or failed; for a failed one still watched, when it was failed. */
  completedAt: number | null;
}

/** What a template task is sent with (stored by `savePreparedPrompt`). */
export interface TemplateTask {
  templateId: string;
  textInputs: string[];
  usesImage: boolean;
}

/** The stored template choice, parsed once per claim; unreadable inputs count as none. */
function decodeTemplateTask(templateId: string | null, rawInputs: string | null): TemplateTask | null {
  if (!templateId) return null;
  let inputs: { textInputs?: unknown; usesImage?: unknown } = {};
  try {
    inputs = rawInputs ? (JSON.parse(rawInputs) as typeof inputs) : {};
  } catch {
    inputs = {};
  }
  return {
    templateId,
    textInputs: Array.isArray(inputs.textInputs) ? inputs.textInputs.map(String) : [],
    usesImage: inputs.usesImage !== false,
  };
}

/** The one mapper of whole `generations` rows (`SELECT *`, `RETURNING *`) for the worker. */
export function rowToQueued(row: Record<string, unknown>): QueuedGeneration {
  const r = readRow('generations', row);
  return {
    id: r.text('id'),
    userId: r.text('userId'),
    status: r.oneOf('status', GENERATION_STATUSES),
    step: r.oneOf('step', GENERATION_STEPS),
    mode: r.oneOf('generation_mode', GENERATION_MODES),
    duration: r.oneOf('duration', DURATIONS),
    cost: r.int('cost'),
    prompt: r.textOrNull('prompt') ?? '',
    promptFinal: r.textOrNull('prompt_final'),
    imagePath: r.textOrNull('image_path'),
    template: decodeTemplateTask(r.textOrNull('minimax_template_id'), r.textOrNull('minimax_template_inputs')),
    jobId: r.textOrNull('minimax_job_id'),
    fileId: r.textOrNull('minimax_file_id'),
    attempt: r.int('attempt'),
    retryCount: r.int('retry_count'),
    submitStartedAt: r.intOrNull('submit_started_at'),
    submittedAt: r.intOrNull('submittedAt'),
    refunded: r.flag('refunded'),
    charged: r.flag('charged'),
    completedAt: r.intOrNull('completedAt'),
    createdAt: r.int('createdAt'),
  };
}

/** Work lanes of the worker; `late` watches generations failed as stuck for a late success. */
export type Lane = 'prepare' | 'submit' | 'poll' | 'download' | 'late';

export interface ClaimOptions {
  lane: Lane;
  now: number;
  leaseMs: number;
  workerId: string;
}

// A row due in a lane; the lease condition is what a claim takes.
const LIVE_DUE = `status IN ('queued', 'processing') AND next_attempt_at <= @now
    AND (locked_until IS NULL OR locked_until < @now) AND step = @step`;
const LATE_DUE = `status = 'failed' AND step IN ('poll', 'download') AND next_attempt_at <= @now
    AND (locked_until IS NULL OR locked_until < @now)`;

// INDEXED BY pins the partial indexes: the planner otherwise prefers idx_generations_status
// and sorts, and SQLite refuses the statement outright if the index ever stops fitting it.
const LIVE_PICK = `SELECT id FROM generations INDEXED BY idx_generations_live
  WHERE ${LIVE_DUE}
  ORDER BY next_attempt_at, createdAt LIMIT 1`;
const LATE_PICK = `SELECT id FROM generations INDEXED BY idx_generations_late
  WHERE ${LATE_DUE}
  ORDER BY next_attempt_at LIMIT 1`;

/** The row-picking queries, exported so a test can check their query plans. */
export const CLAIM_PICK_SQL = { live: LIVE_PICK, late: LATE_PICK } as const;

/**
 * Takes the next due row of a lane (one statement, so two workers never take the same row).
 * The conditions are checked again on the row being updated: on PostgreSQL (READ COMMITTED)
 * two processes can pick the same id, and the second, once the first has committed, re-reads
 * only the UPDATE's own WHERE: the lease the first took makes it update nothing.
 */
export async function claimGeneration(db: Database, options: ClaimOptions): Promise<QueuedGeneration | null> {
  const [pick, due] = options.lane === 'late' ? [LATE_PICK, LATE_DUE] : [LIVE_PICK, LIVE_DUE];
  const row = await db.get<Record<string, unknown>>(
    `UPDATE generations SET locked_until = @leaseUntil, locked_by = @workerId, attempt = attempt + 1, updatedAt = @now
     WHERE id = (${pick}) AND ${due} RETURNING *`,
    {
      now: options.now,
      leaseUntil: options.now + options.leaseMs,
      workerId: options.workerId,
      ...(options.lane === 'late' ? {} : { step: options.lane }),
    },
  );
  return row ? rowToQueued(row) : null;
}

/**
 * Claims one named generation in a lane, under the same conditions as `claimGeneration` (due,
 * not leased, in the lane's step): how a pg-boss job ("work on generation X") takes its row. A
 * job that finds the row not due, leased or in another step takes nothing.
 */
export async function claimGenerationById(db: Database, id: string, options: ClaimOptions): Promise<QueuedGeneration | null> {
  const due = options.lane === 'late' ? LATE_DUE : LIVE_DUE;
  const row = await db.get<Record<string, unknown>>(
    `UPDATE generations SET locked_until = @leaseUntil, locked_by = @workerId, attempt = attempt + 1, updatedAt = @now
     WHERE id = @id AND ${due} RETURNING *`,
    {
      id,
      now: options.now,
      leaseUntil: options.now + options.leaseMs,
      workerId: options.workerId,
      ...(options.lane === 'late' ? {} : { step: options.lane }),
    },
  );
  return row ? rowToQueued(row) : null;
}

/** Where and when a generation is worked on next: its lane and the time it can be claimed. */
export interface DispatchTarget {
  id: string;
  lane: Lane;
  /** When it is due, or just after its lease runs out when somebody holds it. */
  at: number;
}

const LIVE_LANES: readonly string[] = ['prepare', 'submit', 'poll', 'download'];

/** The lane a row is claimed in (the conditions of LIVE_DUE / LATE_DUE), or null when nothing is left to do. */
function laneOfRow(status: string, step: string): Lane | null {
  if ((status === 'queued' || status === 'processing') && LIVE_LANES.includes(step)) return step as Lane;
  if (status === 'failed' && (step === 'poll' || step === 'download')) return 'late';
  return null;
}

function toTarget(row: { id: string; status: string; step: string; next_attempt_at: number; locked_until: number | null }): DispatchTarget | null {
  const lane = laneOfRow(row.status, row.step);
  if (!lane) return null;
  // A claim needs `locked_until < now`: the first moment it can succeed is just after the lease.
  const at = row.locked_until === null ? row.next_attempt_at : Math.max(row.next_attempt_at, row.locked_until + 1);
  return { id: row.id, lane, at };
}

/** The next claim a job should try for one generation; null once it is finished (or unknown). */
export async function dispatchTargetOf(db: Database, id: string): Promise<DispatchTarget | null> {
  const row = await db.get<{ id: string; status: string; step: string; next_attempt_at: number; locked_until: number | null }>(
    'SELECT id, status, step, next_attempt_at, locked_until FROM generations WHERE id = ?',
    [id],
  );
  return row ? toTarget(row) : null;
}

/**
 * Generations due now and held by nobody, oldest first: each should have a job on its way. The
 * dispatch repair (a wake-up, the sweep) sends them one, which the queue drops when one waits
 * already, so a job lost between a commit and its send (or never sent) costs a delay, never the
 * generation.
 */
export async function listDueUnleased(db: Database, now: number, limit: number): Promise<DispatchTarget[]> {
  const rows = await db.all<{ id: string; status: string; step: string; next_attempt_at: number; locked_until: number | null }>(
    `SELECT id, status, step, next_attempt_at, locked_until FROM generations
     WHERE (status IN ('queued', 'processing') OR (status = 'failed' AND step IN ('poll', 'download')))
       AND next_attempt_at <= @now AND (locked_until IS NULL OR locked_until < @now)
     ORDER BY next_attempt_at LIMIT @limit`,
    { now, limit },
  );
  return rows.flatMap((row) => toTarget({ ...row, locked_until: null }) ?? []);
}

/** Tasks accepted by MiniMax and not finished yet: the in-flight cap counts these. */
export async function countInFlight(db: Database): Promise<number> {
  return (await db.value<number>(`SELECT COUNT(*) FROM generations WHERE status = 'processing' AND step = 'poll'`)) as number;
}

/** When the earliest live row becomes due (the worker sleeps until then). */
export async function nextDueAt(db: Database): Promise<number | null> {
  return (
    (await db.value<number | null>(
      `SELECT MIN(next_attempt_at) FROM generations WHERE status IN ('queued', 'processing') AND locked_until IS NULL`,
    )) ?? null
  );
}

type Claim = Pick<QueuedGeneration, 'id' | 'attempt'>;

const RELEASE = 'locked_until = NULL, locked_by = NULL';

/** Phase results of the prompt engine; the generation moves on to submission. */
export async function savePreparedPrompt(db: Database, claim: Claim, prepared: PreparedPrompt, now: number): Promise<boolean> {
  const template = prepared.template;
  return inTransaction(db, async (tx) => {
    const { changes } = await tx.run(
      `UPDATE generations SET step = 'submit', retry_count = 0, next_attempt_at = @now, ${RELEASE},
         prompt_cinematic = @cinematic, prompt_director = @director, prompt_final = @final,
         camera_commands = @commands, minimax_template_id = @templateId, minimax_template_name = @templateName,
         minimax_template_inputs = @templateInputs, minimax_final_prompt = @final,
         error_stage = NULL, error_code = NULL, error_message = NULL, updatedAt = @now
       WHERE id = @id AND attempt = @attempt AND status = 'queued' AND step = 'prepare'`,
      {
        id: claim.id,
        attempt: claim.attempt,
        now,
        cinematic: prepared.cinematic,
        director: prepared.director,
        final: prepared.finalPrompt,
        commands: JSON.stringify(prepared.cameraCommands),
        templateId: template?.templateId ?? null,
        templateName: template?.templateName ?? null,
        templateInputs: template ? JSON.stringify({ textInputs: template.textInputs, usesImage: template.usesImage }) : null,
      },
    );
    if (changes === 1) {
      const detail = prepared.fallbacks.length > 0 ? `fallbacks=${prepared.fallbacks.join(',')}` : null;
      await recordGenerationEvent(tx, claim.id, { kind: 'prepared', status: 'queued', step: 'submit', attempt: claim.attempt, detail, now });
    }
    return changes === 1;
  });
}

/**
 * Written before the create call: if we crash after MiniMax accepted, the restart knows.
 * It is also the fence of a user's cancel (`beforeSubmitOnly`): SQLite orders this write and
 * the cancel, so either the cancel lands first and this finds the row failed (no call is
 * made), or this lands first and the cancel is refused.
 */
export async function markSubmitStarted(db: Database, claim: Claim, now: number): Promise<boolean> {
  const { changes } = await db.run(
    `UPDATE generations SET submit_started_at = ?, updatedAt = ?
     WHERE id = ? AND attempt = ? AND status = 'queued' AND step = 'submit'`,
    [now, now, claim.id, claim.attempt],
  );
  return changes === 1;
}

export interface SubmittedTask {
  jobId: string;
  model: string | null;
  resolution: string | null;
  nextPollAt: number;
}

export async function markSubmitted(db: Database, claim: Claim, task: SubmittedTask, now: number): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { changes } = await tx.run(
      `UPDATE generations SET status = 'processing', step = 'poll', minimax_job_id = @jobId, minimax_status = 'submitted',
         model = @model, resolution = @resolution, submittedAt = @now, retry_count = 0, next_attempt_at = @nextPollAt,
         error_stage = NULL, error_code = NULL, error_message = NULL, ${RELEASE}, updatedAt = @now
       WHERE id = @id AND attempt = @attempt AND status = 'queued' AND step = 'submit'`,
      { id: claim.id, attempt: claim.attempt, now, ...task },
    );
    if (changes === 1) {
      await recordGenerationEvent(tx, claim.id, { kind: 'submitted', status: 'processing', step: 'poll', attempt: claim.attempt, detail: `task_id=${task.jobId}`, now });
    }
    return changes === 1;
  });
}

export interface StepError {
  stage: string;
  code: string;
  message: string;
}

/**
 * A retryable failure: try the same step again after `delayMs`. A generation that has failed
 * meanwhile (stuck, or by an admin) keeps the failure it was refunded for: that is what its
 * owner is told and what the dashboard counts, not a later hiccup of the late watch.
 */
export async function scheduleRetry(db: Database, claim: Claim, error: StepError, delayMs: number, now: number): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { changes } = await tx.run(
      `UPDATE generations SET retry_count = retry_count + 1, next_attempt_at = @at, ${RELEASE},
         error_stage = CASE WHEN status = 'failed' THEN error_stage ELSE @stage END,
         error_code = CASE WHEN status = 'failed' THEN error_code ELSE @code END,
         error_message = CASE WHEN status = 'failed' THEN error_message ELSE @message END, updatedAt = @now
       WHERE id = @id AND attempt = @attempt`,
      { id: claim.id, attempt: claim.attempt, at: now + delayMs, now, ...error, message: error.message.slice(0, 1000) },
    );
    if (changes === 1) {
      await recordGenerationEvent(tx, claim.id, { kind: 'retry', attempt: claim.attempt, detail: `${error.stage} ${error.code} in ${delayMs} ms`, now });
    }
    return changes === 1;
  });
}

/** MiniMax is still working: look again at `nextAt`. */
/**
 * The next poll after MiniMax said "not yet". A status push that came in after this poll asked
 * (`askedAt`) may carry news the answer did not have yet: then the next poll is now, not a
 * whole interval later (the push made the row due, and this write would otherwise undo it).
 */
export async function schedulePoll(
  db: Database,
  claim: Claim,
  poll: { minimaxStatus: string; askedAt: number; nextAt: number },
  now: number,
): Promise<boolean> {
  const { changes } = await db.run(
    `UPDATE generations SET minimax_status = @status, last_polled_at = @now,
       next_attempt_at = CASE WHEN last_callback_at >= @askedAt THEN CAST(@now AS BIGINT) ELSE CAST(@nextAt AS BIGINT) END,
       retry_count = 0, ${RELEASE}, updatedAt = @now
     WHERE id = @id AND attempt = @attempt AND step = 'poll'`,
    { status: poll.minimaxStatus, now, askedAt: poll.askedAt, nextAt: poll.nextAt, id: claim.id, attempt: claim.attempt },
  );
  return changes === 1;
}

export interface FinishedTask {
  fileId: string | null;
  width: number | null;
  height: number | null;
}

/** MiniMax reports success: the video is fetched next (also for a late success after a stuck failure). */
export async function markDownloadReady(db: Database, claim: Claim, task: FinishedTask, now: number): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { changes } = await tx.run(
      `UPDATE generations SET step = 'download', minimax_status = 'success', minimax_file_id = @fileId,
         video_width = @width, video_height = @height, last_polled_at = @now, next_attempt_at = @now, retry_count = 0,
         ${RELEASE}, updatedAt = @now
       WHERE id = @id AND attempt = @attempt AND step = 'poll' AND status IN ('processing', 'failed')`,
      { id: claim.id, attempt: claim.attempt, now, ...task },
    );
    if (changes === 1) {
      await recordGenerationEvent(tx, claim.id, { kind: 'minimax_success', step: 'download', attempt: claim.attempt, detail: task.fileId ? `file_id=${task.fileId}` : null, now });
    }
    return changes === 1;
  });
}

export interface StoredVideo {
  relativePath: string;
  bytes: number;
}

/**
 * The video is on our disk: the generation succeeds and its hold becomes final, in one
 * transaction. A generation already refunded (failed as stuck, then finished late) is
 * delivered without a charge: `charged` stays 0.
 */
export async function markGenerationSucceeded(db: Database, claim: Claim, video: StoredVideo, now: number): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    // `charged = 1 - refunded` MUST stay: setting charged = 1 on a refunded row would break
    // the schema's CHECK (never both) — or, without it, charge a video the user was refunded for.
    const row = await tx.get<{ userId: string; charged: number }>(
      `UPDATE generations SET status = 'success', step = 'done', charged = 1 - refunded, video_path = @path,
         video_bytes = @bytes, video_url = '/api/video/' || id, completedAt = @now, retry_count = 0,
         error_stage = CASE WHEN refunded = 1 THEN error_stage ELSE NULL END,
         error_code = CASE WHEN refunded = 1 THEN error_code ELSE NULL END,
         error_message = CASE WHEN refunded = 1 THEN error_message ELSE NULL END,
         ${RELEASE}, updatedAt = @now
       WHERE id = @id AND attempt = @attempt AND step = 'download' AND status IN ('processing', 'failed')
       RETURNING userId, charged`,
      { id: claim.id, attempt: claim.attempt, now, path: video.relativePath, bytes: video.bytes },
    );
    if (!row) return false;
    await tx.run('UPDATE users SET generation_used = generation_used + 1, updatedAt = ? WHERE id = ?', [now, row.userId]);
    await recordGenerationEvent(tx, claim.id, {
      kind: 'succeeded',
      status: 'success',
      step: 'done',
      attempt: claim.attempt,
      detail: row.charged === 1 ? `bytes=${video.bytes}` : `bytes=${video.bytes} delivered free after refund`,
      now,
    });
    return true;
  });
}

export interface FailOptions extends StepError {
  /** The claim's attempt, or null for the sweep (which only touches unleased rows). */
  attempt: number | null;
  /** Keep the step so a late success can still be delivered (stuck generations). */
  keepWatching: boolean;
  nextWatchAt?: number;
  /**
   * Only while nothing has gone to MiniMax: no create call started (`submit_started_at`,
   * which `markSubmitStarted` writes before the call) and no task id. A user's cancel.
   */
  beforeSubmitOnly?: boolean;
}

/** Live and neither charged nor refunded: the only rows `failGeneration` may fail. */
const FAILABLE = `status IN ('queued', 'processing') AND refunded = 0 AND charged = 0`;
/** Nothing has gone to MiniMax: no create call started (`markSubmitStarted`) and no task id. */
const NOTHING_SENT = `submit_started_at IS NULL AND minimax_job_id IS NULL`;
/**
 * A boolean SQL expression over a `generations` row: whether a user's cancel
 * (`failGeneration(…, beforeSubmitOnly)`) would fail it now. The status view reads it to show
 * the cancel button, so the button and the guard cannot disagree.
 */
export const CANCELLABLE_SQL = `(${FAILABLE} AND ${NOTHING_SENT})`;

/**
 * Fails a live generation and refunds its hold exactly once: the status change is guarded
 * by `refunded = 0 AND charged = 0` and the refund has the unique reference `refund:<id>`,
 * both in one transaction. Returns false when the row was not in a state to fail.
 * Failed from outside the worker (`attempt` null: an admin, the stuck sweep), a lease that is
 * still held stays held: the worker running the step settles it under its own attempt (a
 * watched generation accepts a late success, free), and no second worker starts the same
 * step beside it — two downloads into one `.part` file.
 */
export async function failGeneration(db: Database, id: string, options: FailOptions, now: number): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    // NEVER drop a live lease when failing from outside (`attempt` null): a second worker
    // would claim the row and run the same step beside the first (two downloads, one `.part`).
    // `refunded = 0 AND charged = 0` MUST guard the UPDATE: it is what makes the refund once.
    const row = await tx.get<{ userId: string; cost: number; step: string }>(
      `UPDATE generations SET status = 'failed', refunded = 1,
         step = CASE WHEN @keepWatching = 1 THEN step ELSE 'done' END,
         next_attempt_at = @nextWatchAt, error_stage = @stage, error_code = @code, error_message = @message,
         completedAt = @now, updatedAt = @now,
         locked_until = CASE WHEN CAST(@attempt AS INTEGER) IS NULL AND locked_until >= @now THEN locked_until ELSE NULL END,
         locked_by = CASE WHEN CAST(@attempt AS INTEGER) IS NULL AND locked_until >= @now THEN locked_by ELSE NULL END
       WHERE id = @id AND (CAST(@attempt AS INTEGER) IS NULL OR attempt = @attempt)
         AND ${FAILABLE}
         AND (@beforeSubmitOnly = 0 OR (${NOTHING_SENT}))
       RETURNING userId, cost, step`,
      {
        id,
        attempt: options.attempt,
        keepWatching: options.keepWatching ? 1 : 0,
        beforeSubmitOnly: options.beforeSubmitOnly ? 1 : 0,
        nextWatchAt: options.nextWatchAt ?? now,
        stage: options.stage,
        code: options.code,
        message: options.message.slice(0, 1000),
        now,
      },
    );
    if (!row) return false;
    await refundHold(tx, { generationId: id, userId: row.userId, cost: row.cost, note: `Возврат за генерацию ${id}`, now });
    await recordGenerationEvent(tx, id, {
      kind: 'failed',
      status: 'failed',
      step: row.step,
      attempt: options.attempt,
      detail: `${options.stage} ${options.code}: ${options.message}`,
      now,
    });
    return true;
  });
}

/** A stuck generation stops being watched for a late success (MiniMax failed it, or the window passed). */
export async function stopWatching(db: Database, id: string, attempt: number | null, why: string, now: number): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { changes } = await tx.run(
      `UPDATE generations SET step = 'done', ${RELEASE}, updatedAt = ?
       WHERE id = ? AND (CAST(? AS INTEGER) IS NULL OR attempt = ?) AND status = 'failed' AND step IN ('poll', 'download')`,
      [now, id, attempt, attempt],
    );
    if (changes === 1) await recordGenerationEvent(tx, id, { kind: 'watch_stopped', status: 'failed', step: 'done', attempt, detail: why, now });
    return changes === 1;
  });
}

/**
 * Keeps the lease of a running step (the worker's heartbeat). MUST stay fenced by `attempt`:
 * once this claim has lapsed and the row was claimed again, extending would keep the new
 * holder's lease alive for a dead step. Not by status, on purpose: a generation failed
 * mid-step (admin, stuck sweep) keeps its lease until the step settles (see failGeneration),
 * so no second worker starts beside it. And by `locked_by`: an extension still on its way
 * when the step settles (and releases the lease) would otherwise land after it and lock a
 * row that is due for its next step for a whole lease.
 */
export async function extendLease(db: Database, claim: Claim, holder: string, until: number): Promise<boolean> {
  const { changes } = await db.run('UPDATE generations SET locked_until = ? WHERE id = ? AND attempt = ? AND locked_by = ?', [
    until,
    claim.id,
    claim.attempt,
    holder,
  ]);
  return changes === 1;
}

/** Gives a claimed row back without counting a failure (shutdown, aborted step). */
export async function releaseClaim(db: Database, claim: Claim, now: number): Promise<boolean> {
  const { changes } = await db.run(
    `UPDATE generations SET ${RELEASE}, next_attempt_at = ?, updatedAt = ? WHERE id = ? AND attempt = ?`,
    [now, now, claim.id, claim.attempt],
  );
  return changes === 1;
}

/** Drops leases whose holder is known to be gone (a crashed process on this host). */
export async function releaseLeasesOf(db: Database, holders: string[], now: number): Promise<number> {
  if (holders.length === 0) return 0;
  const marks = holders.map(() => '?').join(', ');
  const { changes } = await db.run(`UPDATE generations SET ${RELEASE}, updatedAt = ? WHERE locked_by IN (${marks})`, [now, ...holders]);
  return changes;
}

export async function listLeaseHolders(db: Database): Promise<string[]> {
  const rows = await db.all<{ locked_by: string }>('SELECT DISTINCT locked_by FROM generations WHERE locked_by IS NOT NULL');
  return rows.map((r) => r.locked_by);
}

/**
 * Waiting at MiniMax longer than the limit and not being worked on right now. A video being
 * fetched (step download) is not stuck at MiniMax: its retries are bounded by
 * QUEUE_MAX_ATTEMPTS and end in VIDEO_DOWNLOAD, whatever the time the sweep happens to run.
 */
export async function findStuckGenerations(db: Database, now: number, stuckAfterMs: number): Promise<QueuedGeneration[]> {
  const rows = await db.all<Record<string, unknown>>(
    `SELECT * FROM generations
     WHERE status = 'processing' AND step = 'poll' AND submittedAt IS NOT NULL AND submittedAt < ?
       AND (locked_until IS NULL OR locked_until < ?)`,
    [now - stuckAfterMs, now],
  );
  return rows.map(rowToQueued);
}

/** Stuck generations whose late-success window has passed. */
export async function findExpiredWatches(db: Database, now: number, windowMs: number): Promise<string[]> {
  const rows = await db.all<{ id: string }>(
    `SELECT id FROM generations WHERE status = 'failed' AND step IN ('poll', 'download')
       AND COALESCE(submittedAt, createdAt) < ? AND (locked_until IS NULL OR locked_until < ?)`,
    [now - windowMs, now],
  );
  return rows.map((r) => r.id);
}

/** A MiniMax push names a task: make it due for a confirming query now. Unknown ids change nothing. */
export async function expediteByJobId(db: Database, jobId: string, now: number): Promise<string | null> {
  const row = await db.get<{ id: string }>(
    `UPDATE generations SET next_attempt_at = CASE WHEN next_attempt_at < @now THEN next_attempt_at ELSE @now END,
       last_callback_at = @now, updatedAt = @now
     WHERE minimax_job_id = @jobId AND step = 'poll' AND status IN ('processing', 'failed')
     RETURNING id`,
    { jobId, now },
  );
  return row?.id ?? null;
}

/**
 * An admin returns the credits of a finished generation by hand (a bad video, a complaint):
 * guarded by `refunded = 0` and the unique ledger reference `refund:<id>`, both in one
 * transaction, so a second refund — by an admin or by the worker — changes nothing. A
 * charged success becomes uncharged (`charged = 0, refunded = 1`). Live generations are
 * refused: failing them (which refunds) is the way to stop one.
 */
export async function refundGenerationManually(db: Database, id: string, note: string, now: number): Promise<{ refunded: boolean; credits: number }> {
  return inTransaction(db, async (tx) => {
    const row = await tx.get<{ userId: string; cost: number; status: string; step: string }>(
      `UPDATE generations SET refunded = 1, charged = 0, updatedAt = @now
       WHERE id = @id AND refunded = 0 AND status IN ('success', 'failed')
       RETURNING userId, cost, status, step`,
      { id, now },
    );
    if (!row) return { refunded: false, credits: 0 };
    await refundHold(tx, { generationId: id, userId: row.userId, cost: row.cost, note: `Возврат вручную за генерацию ${id}: ${note}`, now });
    await recordGenerationEvent(tx, id, { kind: 'refunded_manually', status: row.status, step: row.step, detail: note, now });
    return { refunded: true, credits: row.cost };
  });
}

/**
 * Makes a generation due now (an admin's "requeue", "query MiniMax now"): it resumes from
 * its stored step with a fresh retry budget. A lease that is still held stays held — the
 * worker running the step finishes it; a lapsed one is dropped so the row is claimed at once.
 */
export async function makeGenerationDue(db: Database, id: string, now: number): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const { changes } = await tx.run(
      `UPDATE generations SET next_attempt_at = @now, retry_count = 0,
         locked_until = CASE WHEN locked_until < @now THEN NULL ELSE locked_until END,
         locked_by = CASE WHEN locked_until < @now THEN NULL ELSE locked_by END, updatedAt = @now
       WHERE id = @id AND (status IN ('queued', 'processing') OR (status = 'failed' AND step IN ('poll', 'download')))`,
      { id, now },
    );
    if (changes === 1) await recordGenerationEvent(tx, id, { kind: 'made_due', detail: 'by an operator', now });
    return changes === 1;
  });
}
