import { AsyncResource } from 'node:async_hooks';
import type { Clock } from '../clock.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { isTelegramError, type TelegramClient } from '../providers/telegram/client.ts';
import { recordAlert, type AlertDelivery } from './alert-log.ts';
import { formatAlert, type FormattedAlert } from './format.ts';
import type { Alert, Notifier } from './types.ts';
import type { SharedCooldown } from './shared-cooldown.ts';

/**
 * Operator alerts to Telegram (DESIGN.md §6). Promises to callers:
 * - `alert()` returns at once and never throws; delivery and the `operator_alerts` row
 *   happen later, on a queue, so an alert raised inside a transaction neither slows it
 *   nor ends up in it;
 * - the same `stage::error` goes out at most once per minute (the spec's cooldown), across
 *   all processes when `sharedCooldown` is given (PostgreSQL); the duplicates are still
 *   recorded, as `suppressed`;
 * - a 429 is retried once after Telegram's `retry_after`; a 5xx or network error once
 *   after a short pause; anything else is recorded as `failed`;
 * - without a bot token or chat the alert is recorded as `disabled` and logged.
 */

export const ALERT_COOLDOWN_MS = 60_000;

export interface TelegramNotifierOptions {
  db: Database;
  log: Logger;
  clock: Clock;
  /** Null when Telegram is not configured. */
  telegram: { client: TelegramClient; chatId: string } | null;
  cooldownMs?: number;
  /**
   * The cooldown as every process on the database sees it (web and worker roles), asked before
   * sending what this process's own cooldown let through. When it cannot be asked, the alert
   * is sent: a duplicate alert is better than a lost one.
   */
  sharedCooldown?: SharedCooldown;
  /** Pause between two messages (Telegram asks for ≤ 1 per second per chat). */
  minIntervalMs?: number;
  /** A `retry_after` longer than this is not waited for: the alert is recorded as failed. */
  maxRetryAfterMs?: number;
  /** Pause before the one retry of a 5xx or network failure. */
  retryDelayMs?: number;
  /** Alerts waiting beyond this are recorded as failed without sending (an alert storm). */
  maxQueue?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Told about every alert once its `operator_alerts` row is written (metrics). */
  onRecorded?: (record: { stage: string; delivery: AlertDelivery }) => void;
  /** Told why Telegram refused an alert (the alert chat check shows a wrong chat or token). */
  onRefused?: (err: unknown) => void;
}

type Job = { alert: Alert; key: string; formatted: FormattedAlert; createdAt: number; action: 'send' | 'suppressed' | 'disabled' | 'overflow' };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface TelegramNotifier extends Notifier {
  /** Alerts accepted but not yet recorded. */
  pending(): number;
}

export function createTelegramNotifier(options: TelegramNotifierOptions): TelegramNotifier {
  const log = options.log.child({ mod: 'alerts' });
  const cooldownMs = options.cooldownMs ?? ALERT_COOLDOWN_MS;
  const minIntervalMs = options.minIntervalMs ?? 1000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const maxQueue = options.maxQueue ?? 100;
  const sleep = options.sleep ?? realSleep;

  const lastSentAt = new Map<string, number>();
  const queue: Job[] = [];
  let draining: Promise<void> | null = null;
  let lastSendFinishedAt = 0;

  function alert(input: Alert): void {
    try {
      const now = options.clock.now();
      const formatted = formatAlert(input);
      const key = `${input.stage}::${input.error}`;
      let action: Job['action'];
      if (!options.telegram) {
        action = 'disabled';
      } else if (now - (lastSentAt.get(key) ?? Number.NEGATIVE_INFINITY) < cooldownMs) {
        action = 'suppressed';
      } else if (queue.filter((j) => j.action === 'send').length >= maxQueue) {
        action = 'overflow';
      } else {
        action = 'send';
        lastSentAt.set(key, now);
        forgetOldKeys(now);
      }
      queue.push({ alert: input, key, formatted, createdAt: now, action });
      draining ??= startDrain().finally(() => {
        draining = null;
      });
    } catch (err) {
      log.error({ err, stage: input?.stage }, 'alert could not be queued');
    }
  }

  function forgetOldKeys(now: number): void {
    if (lastSentAt.size < 1000) return;
    for (const [key, at] of lastSentAt) if (now - at >= cooldownMs) lastSentAt.delete(key);
  }

  // The queue runs in the async context the notifier was made in, never in the caller's: an
  // alert raised inside a transaction would otherwise carry that transaction along, and its
  // row write (on the outer handle) would be refused as a statement of the transaction.
  const startDrain = AsyncResource.bind(() => drain());

  async function drain(): Promise<void> {
    // Leave the caller's turn first: its transaction (if any) ends before we touch the DB.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let job = queue.shift(); job; job = queue.shift()) {
      try {
        await handle(job);
      } catch (err) {
        log.error({ err, stage: job.alert.stage }, 'alert handling failed');
      }
    }
  }

  /** Whether another process sent this `stage::error` within the cooldown. */
  async function sentElsewhere(job: Job): Promise<boolean> {
    if (job.action !== 'send' || !options.sharedCooldown) return false;
    try {
      return !(await options.sharedCooldown.claim(job.key));
    } catch (err) {
      log.warn({ err, stage: job.alert.stage }, 'shared alert cooldown unavailable; sending');
      return false;
    }
  }

  async function handle(job: Job): Promise<void> {
    const { stage } = job.alert;
    let delivery: AlertDelivery;
    let deliveryError: string | null = null;
    if (job.action === 'suppressed' || (await sentElsewhere(job))) {
      log.info({ stage }, 'cooldown active, duplicate alert suppressed');
      delivery = 'suppressed';
    } else if (job.action === 'disabled') {
      log.warn({ stage, userId: job.alert.userId, generationId: job.alert.generationId, error: job.alert.error }, 'operator alert (Telegram not configured)');
      delivery = 'disabled';
    } else if (job.action === 'overflow') {
      log.warn({ stage }, 'alert queue full, alert not sent');
      delivery = 'failed';
      deliveryError = 'alert queue full';
    } else {
      try {
        await send(job.formatted);
        delivery = 'sent';
        log.info({ stage }, 'operator alert sent');
      } catch (err) {
        delivery = 'failed';
        deliveryError = isTelegramError(err) ? err.message : err instanceof Error ? err.message : String(err);
        log.warn({ stage, deliveryError }, 'operator alert not delivered');
        options.onRefused?.(err);
      }
    }
    await recordAlert(options.db, {
      stage,
      userId: job.alert.userId ?? null,
      generationId: job.alert.generationId ?? null,
      message: job.formatted.plain,
      delivery,
      deliveryError,
      createdAt: job.createdAt,
    });
    options.onRecorded?.({ stage, delivery });
  }

  async function send(formatted: FormattedAlert): Promise<void> {
    const telegram = options.telegram;
    if (!telegram) return;
    const wait = lastSendFinishedAt + minIntervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    const attempt = (html: boolean) =>
      telegram.client.sendMessage(
        html ? { chatId: telegram.chatId, text: formatted.html, parseMode: 'HTML' } : { chatId: telegram.chatId, text: formatted.plain },
      );
    try {
      await attempt(true);
    } catch (err) {
      if (!isTelegramError(err)) throw err;
      if (err.cannotParseEntities) {
        await attempt(false);
      } else if (err.status === 429 && err.retryAfter !== null && err.retryAfter * 1000 <= maxRetryAfterMs) {
        log.info({ retryAfter: err.retryAfter }, 'Telegram flood control, waiting once');
        await sleep(err.retryAfter * 1000);
        await attempt(true);
      } else if (err.status === null || err.status >= 500) {
        await sleep(retryDelayMs);
        await attempt(true);
      } else {
        throw err;
      }
    } finally {
      lastSendFinishedAt = performance.now();
    }
  }

  return {
    alert,
    async flush() {
      while (draining) await draining;
    },
    pending: () => queue.length,
  };
}
