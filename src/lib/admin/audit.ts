import { inTransaction, type Db } from '../db/index.ts';
import { readRow } from '../db/row.ts';
import { badRequest } from '../errors.ts';

/**
 * Who did what in the admin panel or the operator shell, and why (`admin_audit`).
 * Every admin action writes its row in the same transaction as its effect, so an action
 * without a record (or a record without its action) cannot exist.
 */

/** An admin signed in to the panel, or the operator shell (`npm run admin -- …`). */
export type Actor = { kind: 'admin'; id: string; email: string } | { kind: 'cli' };

export const cliActor: Actor = { kind: 'cli' };

/** Append-only: stored rows keep their action, and the audit page must still read them. */
export const AUDIT_ACTIONS = [
  'user.adjust_balance',
  'user.set_subscription',
  'user.grant_admin',
  'user.revoke_admin',
  'user.disable',
  'user.enable',
  'admin.grant_pending',
  'admin.revoke_pending',
  'generation.requery',
  'generation.retry',
  'generation.refund',
  'generation.fail',
  'generation.requeue',
  'generations.fail_stuck',
  'payment.recheck',
  'payments.recheck_pending',
  'alert.test',
  'db.backup',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_TARGET_TYPES = ['user', 'generation', 'payment', 'email', 'system'] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

export interface NewAuditEntry {
  actor: Actor;
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string | null;
  reason?: string | null;
  /** Short facts for support (amounts, outcomes); stored as JSON. */
  detail?: Record<string, unknown> | null;
  /** The form's one-time key: the same key twice is the same action. */
  requestKey?: string | null;
  now: number;
}

export interface AuditEntry {
  id: number;
  adminId: string | null;
  actor: string;
  action: AuditAction;
  targetType: AuditTargetType | null;
  targetId: string | null;
  reason: string | null;
  detail: Record<string, unknown> | null;
  createdAt: number;
}

export const REASON_MAX = 500;

/** A reason the operator typed: trimmed, required where money, roles or access change. */
export function requireReason(reason: string | null | undefined): string {
  const text = reason?.trim() ?? '';
  if (text.length < 3) throw badRequest('ADMIN_REASON_REQUIRED', 'reason');
  if (text.length > REASON_MAX) throw badRequest('ADMIN_REASON_TOO_LONG', 'reason', { max: REASON_MAX });
  return text;
}

export function optionalReason(reason: string | null | undefined): string | null {
  const text = reason?.trim() ?? '';
  if (text.length > REASON_MAX) throw badRequest('ADMIN_REASON_TOO_LONG', 'reason', { max: REASON_MAX });
  return text || null;
}

function actorName(actor: Actor): string {
  return actor.kind === 'cli' ? 'cli' : actor.email;
}

/** The audit row already written for this request key, if the form was sent before. */
function findAuditByRequestKey(db: Db, requestKey: string | null | undefined): AuditEntry | null {
  if (!requestKey) return null;
  const row = db.prepare(`SELECT ${COLUMNS} FROM admin_audit WHERE request_key = ?`).get(requestKey) as Record<string, unknown> | undefined;
  return row ? rowToEntry(row) : null;
}

/**
 * Writes an audit row. Admin writes go through `auditedAction`; this alone records what an
 * action did outside a database transaction (a provider call, a backup, the stuck sweep), or
 * a removal recorded only when something was removed (a waiting admin grant).
 */
export function recordAdminAction(db: Db, entry: NewAuditEntry): number {
  const result = db
    .prepare(
      `INSERT INTO admin_audit (adminId, actor, action, target_type, target_id, reason, detail, request_key, createdAt)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      entry.actor.kind === 'admin' ? entry.actor.id : null,
      actorName(entry.actor),
      entry.action,
      entry.targetType,
      entry.targetId,
      entry.reason ?? null,
      entry.detail ? JSON.stringify(entry.detail) : null,
      entry.requestKey ?? null,
      entry.now,
    );
  return Number(result.lastInsertRowid);
}

/** Adds facts known only after the change (the new balance, an outcome). */
function updateAuditDetail(db: Db, id: number, detail: Record<string, unknown>): void {
  db.prepare('UPDATE admin_audit SET detail = ? WHERE id = ?').run(JSON.stringify(detail), id);
}

export interface AuditedChange<T> {
  outcome: T;
  /** Facts for support, known once the change is made (amounts, what it was before, whether it changed). */
  detail?: Record<string, unknown>;
}

export interface AuditedSteps<T> {
  /** The change itself, with its checks; throwing rolls back the audit row too. Gets the audit id (ledger lines reference it). */
  change(auditId: number): AuditedChange<T>;
  /** The answer to a resent one-time key, from the first time's audit row; nothing changes. */
  replay(seen: AuditEntry): T;
}

/**
 * The one shape of an admin write, so a new action cannot forget a step: a resent
 * one-time key replays and changes nothing; otherwise the audit row and the change are
 * written in ONE transaction, so an action without its record (or a record without its
 * action) cannot exist.
 */
export function auditedAction<T extends object>(
  db: Db,
  entry: Omit<NewAuditEntry, 'detail'>,
  steps: AuditedSteps<T>,
): T & { auditId: number } {
  return inTransaction(db, () => {
    const seen = findAuditByRequestKey(db, entry.requestKey);
    if (seen) return { ...steps.replay(seen), auditId: seen.id };
    const auditId = recordAdminAction(db, entry);
    const { outcome, detail } = steps.change(auditId);
    if (detail) updateAuditDetail(db, auditId, detail);
    return { ...outcome, auditId };
  });
}

const COLUMNS = 'id, adminId, actor, action, target_type, target_id, reason, detail, createdAt';

/** The one mapper of `admin_audit` rows (COLUMNS). */
function rowToEntry(row: Record<string, unknown>): AuditEntry {
  const r = readRow('admin_audit', row);
  const rawDetail = r.textOrNull('detail');
  let detail: Record<string, unknown> | null = null;
  if (rawDetail) {
    try {
      detail = JSON.parse(rawDetail) as Record<string, unknown>;
    } catch {
      detail = { text: rawDetail };
    }
  }
  const targetType = r.textOrNull('target_type');
  return {
    id: r.int('id'),
    adminId: r.textOrNull('adminId'),
    actor: r.text('actor'),
    action: r.oneOf('action', AUDIT_ACTIONS),
    targetType: targetType === null ? null : r.oneOf('target_type', AUDIT_TARGET_TYPES),
    targetId: r.textOrNull('target_id'),
    reason: r.textOrNull('reason'),
    detail,
    createdAt: r.int('createdAt'),
  };
}

export interface AuditFilter {
  action?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  /** Matches the actor's email (or `cli`). */
  actor?: string | null;
  limit?: number;
  offset?: number;
}

/** Newest first. */
export function listAudit(db: Db, filter: AuditFilter = {}): AuditEntry[] {
  const where: string[] = [];
  const params: Record<string, unknown> = {
    limit: Math.max(1, Math.min(filter.limit ?? 100, 500)),
    offset: Math.max(0, filter.offset ?? 0),
  };
  if (filter.action) {
    where.push('action = @action');
    params.action = filter.action;
  }
  if (filter.targetType) {
    where.push('target_type = @targetType');
    params.targetType = filter.targetType;
  }
  if (filter.targetId) {
    where.push('target_id = @targetId');
    params.targetId = filter.targetId;
  }
  if (filter.actor) {
    where.push('actor = @actor');
    params.actor = filter.actor.toLowerCase();
  }
  const rows = db
    .prepare(
      `SELECT ${COLUMNS} FROM admin_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY createdAt DESC, id DESC LIMIT @limit OFFSET @offset`,
    )
    .all(params) as Array<Record<string, unknown>>;
  return rows.map(rowToEntry);
}

