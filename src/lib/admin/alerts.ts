import type { Config } from '../config.ts';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import type { Notifier } from '../notify/types.ts';
import { recentAlerts, type AlertDelivery, type AlertRecord } from '../notify/alert-log.ts';
import type { AlertChatCheck, AlertChatStatus } from '../notify/alert-chat.ts';
import { recordAdminAction, type Actor } from './audit.ts';

/** The operator-alert log for the admin page, and the "send test alert" button. */

export interface AlertOverview {
  alerts: AlertRecord[];
  /** Deliveries of the last 24 h by outcome. */
  last24h: Record<AlertDelivery, number>;
  telegramEnabled: boolean;
  /** The last check of TELEGRAM_CHAT_ID (at start, or by the test button); null before it ends. */
  chat: AlertChatStatus | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export interface AlertAdminDeps {
  db: Database;
  clock: Clock;
  config: Pick<Config, 'telegram'>;
  notifier: Notifier;
  alertChat: AlertChatCheck;
}

export async function getAlertOverview(
  ctx: Pick<AlertAdminDeps, 'db' | 'config' | 'alertChat'>,
  now: number,
  limit = 100,
): Promise<AlertOverview> {
  const last24h: Record<AlertDelivery, number> = { sent: 0, suppressed: 0, failed: 0, disabled: 0 };
  const rows = await ctx.db.all<{ delivery: AlertDelivery; n: number }>(
    'SELECT delivery, COUNT(*) AS n FROM operator_alerts WHERE createdAt >= ? GROUP BY delivery',
    [now - DAY_MS],
  );
  for (const row of rows) last24h[row.delivery] = row.n;
  return { alerts: await recentAlerts(ctx.db, limit), last24h, telegramEnabled: ctx.config.telegram.enabled, chat: ctx.alertChat.status() };
}

/**
 * Checks the alert chat again, then sends a TEST_ALERT through the real notifier (the same
 * queue, format, cooldown and delivery record as every other alert). The text carries the
 * time, so two tests a minute apart are not taken for duplicates.
 */
export async function sendTestAlert(
  ctx: Pick<AlertAdminDeps, 'db' | 'clock' | 'notifier' | 'alertChat'>,
  input: { actor: Actor },
): Promise<{ auditId: number; chat: AlertChatStatus }> {
  const chat = await ctx.alertChat.check();
  const now = ctx.clock.now();
  const who = input.actor.kind === 'cli' ? 'operator shell' : input.actor.email;
  ctx.notifier.alert({
    stage: 'TEST_ALERT',
    userId: input.actor.kind === 'admin' ? input.actor.id : null,
    error: `Test alert from ${who} at ${new Date(now).toISOString()}`,
  });
  const auditId = await recordAdminAction(ctx.db, {
    actor: input.actor,
    action: 'alert.test',
    targetType: 'system',
    targetId: null,
    now,
  });
  return { auditId, chat };
}

