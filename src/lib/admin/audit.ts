import { inTransaction, type Database } from '../db/database.ts';
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
async function findAuditByRequestKey(db: Database, requestKey: string | null | undefined): Promise<AuditEntry | null> {
  if (!requestKey) return null;
  const row = await db.get<Record<string, unknown>>(`SELECT ${COLUMNS} FROM admin_audit WHERE request_key = ?`, [requestKey]);
  return row ? rowToEntry(row) : null;
}

/**
 * Writes an audit row. Admin writes go through `auditedAction`; this alone records what an
 * action did outside a database transaction (a provider call, a backup, the stuck sweep), or
 * a removal recorded only when something was removed (a waiting admin grant).
 */
export async function recordAdminAction(db: Database, entry: NewAuditEntry): Promise<number> {
  const id = await db.value<number>(
    `INSERT INTO admin_audit (adminId, actor, action, target_type, target_id, reason, detail, request_key, createdAt)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [
      entry.actor.kind === 'admin' ? entry.actor.id : null,
      actorName(entry.actor),
      entry.action,
      entry.targetType,
      entry.targetId,
      entry.reason ?? null,
      entry.detail ? JSON.stringify(entry.detail) : null,
      entry.requestKey ?? null,
      entry.now,
    ],
  );
  return Number(id);
}

/** Adds facts known only after the change (the new balance, an outcome). */
async function updateAuditDetail(db: Database, id: number, detail: Record<string, unknown>): Promise<void> {
  await db.run('UPDATE admin_audit SET detail = ? WHERE id = ?', [JSON.stringify(detail), id]);
}

export interface AuditedChange<T> {
  outcome: T;
  /** Facts for support, known once the change is made (amounts, what it was before, whether it changed). */
  detail?: Record<string, unknown>;
}

/**
 * Both steps run inside the audit row's transaction and get its handle `tx` last: every
 * statement of a step MUST go through `tx` (the outer handle is refused inside it).
 */
export interface AuditedSteps<T, D extends Database = Database> {
  /** The change itself, with its checks; throwing rolls back the audit row too. Gets the audit id (ledger lines reference it). */
  change(auditId: number, tx: D): Promise<AuditedChange<T>> | AuditedChange<T>;
  /** The answer to a resent one-time key, from the first time's audit row; nothing changes. */
  replay(seen: AuditEntry, tx: D): Promise<T> | T;
}

/**
 * The one shape of an admin write, so a new action cannot forget a step: a resent
 * one-time key replays and changes nothing; otherwise the audit row and the change are
 * written in ONE transaction, so an action without its record (or a record without its
 * action) cannot exist.
 */
export async function auditedAction<T extends object, D extends Database = Database>(
  db: D,
  entry: Omit<NewAuditEntry, 'detail'>,
  steps: AuditedSteps<T, D>,
): Promise<T & { auditId: number }> {
  return inTransaction(db, async (tx) => {
    const seen = await findAuditByRequestKey(tx, entry.requestKey);
    if (seen) return { ...(await steps.replay(seen, tx)), auditId: seen.id };
    const auditId = await recordAdminAction(tx, entry);
    const { outcome, detail } = await steps.change(auditId, tx);
    if (detail) await updateAuditDetail(tx, auditId, detail);
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
export async function listAudit(db: Database, filter: AuditFilter = {}): Promise<AuditEntry[]> {
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
  const rows = await db.all<Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM admin_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY createdAt DESC, id DESC LIMIT @limit OFFSET @offset`,
    params,
  );
  return rows.map(rowToEntry);
}

