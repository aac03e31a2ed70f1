import type { Db } from '../db/index.ts';
import type { AlertStage } from './types.ts';

/** Every alert, delivered or not, is a row in `operator_alerts`: the admin page lists them. */

export type AlertDelivery = 'sent' | 'suppressed' | 'failed' | 'disabled';

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

interface AlertRow {
  id: number;
  stage: string;
  userId: string | null;
  generationId: string | null;
  message: string;
  delivery: string;
  delivery_error: string | null;
  createdAt: number;
}

/** Newest first. */
export function recentAlerts(db: Db, limit = 50): AlertRecord[] {
  const rows = db
    .prepare(
      `SELECT id, stage, userId, generationId, message, delivery, delivery_error, createdAt
       FROM operator_alerts ORDER BY createdAt DESC, id DESC LIMIT ?`,
    )
    .all(Math.max(1, Math.min(limit, 1000))) as AlertRow[];
  return rows.map((row) => ({
    id: row.id,
    stage: row.stage as AlertStage,
    userId: row.userId,
    generationId: row.generationId,
    message: row.message,
    delivery: row.delivery as AlertDelivery,
    deliveryError: row.delivery_error,
    createdAt: row.createdAt,
  }));
}
