import type { Db } from '../db/index.ts';
import { readRow } from '../db/row.ts';
import { ALERT_STAGES, type AlertStage } from './types.ts';

/** Every alert, delivered or not, is a row in `operator_alerts`: the admin page lists them. */

export const ALERT_DELIVERIES = ['sent', 'suppressed', 'failed', 'disabled'] as const;
export type AlertDelivery = (typeof ALERT_DELIVERIES)[number];

export interface AlertRecord {
  id: number;
  stage: AlertStage;
  userId: string | null;
  generationId: string | null;
  message: string;
  delivery: AlertDelivery;
  deliveryError: string | null;
  createdAt: number;
}

export interface NewAlertRecord {
  stage: AlertStage;
  userId: string | null;
  generationId: string | null;
  message: string;
  delivery: AlertDelivery;
  deliveryError: string | null;
  createdAt: number;
}

export function recordAlert(db: Db, alert: NewAlertRecord): number {
  const result = db
    .prepare(
      `INSERT INTO operator_alerts (stage, userId, generationId, message, delivery, delivery_error, createdAt)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(alert.stage, alert.userId, alert.generationId, alert.message, alert.delivery, alert.deliveryError, alert.createdAt);
  return Number(result.lastInsertRowid);
}

/** Newest first. */
export function recentAlerts(db: Db, limit = 50): AlertRecord[] {
  const rows = db
    .prepare(
      `SELECT id, stage, userId, generationId, message, delivery, delivery_error, createdAt
       FROM operator_alerts ORDER BY createdAt DESC, id DESC LIMIT ?`,
    )
    .all(Math.max(1, Math.min(limit, 1000))) as Array<Record<string, unknown>>;
  return rows.map(rowToAlertRecord);
}

/** The one mapper of `operator_alerts` rows. */
function rowToAlertRecord(row: Record<string, unknown>): AlertRecord {
  const r = readRow('operator_alerts', row);
  return {
    id: r.int('id'),
    stage: r.oneOf('stage', ALERT_STAGES),
    userId: r.textOrNull('userId'),
    generationId: r.textOrNull('generationId'),
    message: r.text('message'),
    delivery: r.oneOf('delivery', ALERT_DELIVERIES),
    deliveryError: r.textOrNull('delivery_error'),
    createdAt: r.int('createdAt'),
  };
}
