import type { Database } from '../db/database.ts';
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

export async function recordAlert(db: Database, alert: NewAlertRecord): Promise<number> {
  const id = await db.value<number>(
    `INSERT INTO operator_alerts (stage, userId, generationId, message, delivery, delivery_error, createdAt)
     VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [alert.stage, alert.userId, alert.generationId, alert.message, alert.delivery, alert.deliveryError, alert.createdAt],
  );
  return Number(id);
}

/** Newest first. */
export async function recentAlerts(db: Database, limit = 50): Promise<AlertRecord[]> {
  const rows = await db.all<Record<string, unknown>>(
    `SELECT id, stage, userId, generationId, message, delivery, delivery_error, createdAt
     FROM operator_alerts ORDER BY createdAt DESC, id DESC LIMIT ?`,
    [Math.max(1, Math.min(limit, 1000))],
  );
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
